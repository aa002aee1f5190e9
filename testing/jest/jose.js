// jose 6 ships ES modules only and Jest here runs CommonJS without transforming
// node_modules: the tests get it from Node's own require (which loads ES modules since
// Node 20.19), outside Jest's registry — process.getBuiltinModule, because Jest's own
// `module` builtin would resolve it back into the registry. The app and the host bundle
// import jose as usual.
module.exports = process.getBuiltinModule('node:module').createRequire(__filename)('jose');

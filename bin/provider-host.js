#!/usr/bin/env node
// `npx provider-host …`: runs tools/cli/provider-host-command.ts from the sources, as the
// npm scripts do (ts-node, transpile only), so no build step comes first.
'use strict';
const path = require('node:path');
require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '..', 'tsconfig.json') });
require('../tools/cli/provider-host-command.ts').main();

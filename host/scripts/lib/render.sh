# shellcheck shell=bash
# Strict {{name}} renderer, the bash twin of nginx/render-template.ts (same
# rules, same test table): fails on a placeholder without a value, a value
# without a placeholder, a malformed leftover {{ or }}, or an unsafe value.
# Unlike the TypeScript one it stops at the first problem and has no blocks.
#
#   render_template TEMPLATE name=value ...   > rendered
#
# Values cannot contain { or }, so a value can never create a placeholder.

render_template() {
  local template=$1
  shift
  [[ -r $template ]] || { echo "render_template: cannot read template $template" >&2; return 1; }

  local text
  text=$(cat -- "$template"; printf x)
  text=${text%x}

  local -A values=()
  local pair name value
  for pair in "$@"; do
    name=${pair%%=*}
    value=${pair#*=}
    if [[ $pair != *=* || ! $name =~ ^[a-z][a-z0-9_]*$ ]]; then
      echo "$template: invalid value name(s) ${name}: use lower_snake_case" >&2
      return 1
    fi
    values[$name]=$value
  done

  local -a wanted=()
  mapfile -t wanted < <(grep -oE '\{\{[a-z][a-z0-9_]*\}\}' -- "$template" | sed -e 's/^{{//' -e 's/}}$//' | sort -u)

  local -a missing=() unused=()
  for name in "${wanted[@]}"; do
    [[ -v "values[$name]" ]] || missing+=("{{$name}}")
  done
  if ((${#missing[@]} > 0)); then
    echo "$template: no value for placeholder(s) $(join_by ', ' "${missing[@]}")" >&2
    return 1
  fi
  local -A wanted_set=()
  for name in "${wanted[@]}"; do wanted_set[$name]=1; done
  for name in $(printf '%s\n' "${!values[@]}" | sort); do
    [[ -v "wanted_set[$name]" ]] || unused+=("$name")
  done
  if ((${#unused[@]} > 0)); then
    echo "$template: value(s) $(join_by ', ' "${unused[@]}") match no placeholder; remove them or fix the template" >&2
    return 1
  fi

  local safe='^[][A-Za-z0-9._~:/@%+=,*-]+$'
  for name in $(printf '%s\n' "${!values[@]}" | sort); do
    if [[ ! ${values[$name]} =~ $safe ]]; then
      echo "$template: value of $name must be a non-empty path, host, address or URL without whitespace, quotes, ; { } \$ # or \\ (got \"${values[$name]}\")" >&2
      return 1
    fi
  done

  local stripped=$text line_no=0 line leftover='\{\{.{0,40}|\}\}'
  for name in "${wanted[@]}"; do stripped=${stripped//"{{$name}}"/}; done
  while IFS= read -r line; do
    line_no=$((line_no + 1))
    if [[ $line =~ $leftover ]]; then
      echo "$template: line $line_no has a malformed placeholder \"${BASH_REMATCH[0]}\"; write {{lower_snake_case}}" >&2
      return 1
    fi
  done <<<"$stripped"

  for name in "${wanted[@]}"; do text=${text//"{{$name}}"/"${values[$name]}"}; done
  printf '%s' "$text"
}

join_by() {
  local separator=$1 first=$2
  shift 2
  printf '%s' "$first" "${@/#/$separator}"
}

# shellcheck shell=bash
# The command-line convention of the bash commands, as scripts/ssebench/cli.py is the Python
# ones': --help (or -h) prints the command's usage comment at once, before anything is installed
# or built; --opt=value and --opt value alike; an unknown option is one line naming the closest
# valid one (the harness's rule, core/src/flags.cpp), exit 2. Sourced before scripts/lib/deps.sh,
# so a typo costs nothing.
#
#   ssebench_cli_parse FILE SPEC... -- ARGS...
#     FILE is the command ($0), whose comment block after the shebang is its --help (then the
#     function ssebench_cli_more_help runs, if the command defines one). Each SPEC is an option:
#     --name (a switch), --name=N (a whole number), --name=VALUE (anything); ARGS... allows
#     positional arguments (and short options), --* passes other long options on unchecked unless
#     one is a typo of a SPEC (for a command that hands them to another program, which checks
#     them). On return the array ssebench_args holds ARGS, each value option as --name=value.
#   ssebench_cli_fail PROG MESSAGE   PROG: MESSAGE (see --help), exit 2
#   ssebench_cli_closest NAME CANDIDATE...   prints the candidate NAME is a typo of, if any
#   ssebench_cli_help FILE           prints FILE's usage comment

ssebench_cli_help() {
  # From line 2 to the first line that is not a comment; shellcheck directives left out.
  awk 'NR == 1 { next } !/^#/ { exit } !/^# *shellcheck/ { sub(/^# ?/, ""); print }' "$1"
}

ssebench_cli_fail() {
  echo "$1: $2 (see --help)" >&2
  exit 2
}

# Levenshtein distance of two words, one row at a time.
ssebench_cli_distance() {
  local a=$1 b=$2 i j diag up cost
  local -a row
  for ((j = 0; j <= ${#b}; j++)); do row[j]=$j; done
  for ((i = 1; i <= ${#a}; i++)); do
    diag=${row[0]}
    row[0]=$i
    for ((j = 1; j <= ${#b}; j++)); do
      up=${row[j]}
      cost=1
      [ "${a:i-1:1}" != "${b:j-1:1}" ] || cost=0
      row[j]=$((diag + cost))
      ((row[j - 1] + 1 < row[j])) && row[j]=$((row[j - 1] + 1))
      ((up + 1 < row[j])) && row[j]=$((up + 1))
      diag=$up
    done
  done
  echo "${row[${#b}]}"
}

# Within max(2, len/4) edits, as ssebench/cli.py and core/src/flags.cpp: a typo, not a guess.
ssebench_cli_closest() {
  local name=$1 best='' best_d c d
  shift
  best_d=$((${#name} / 4 > 2 ? ${#name} / 4 + 1 : 3))
  for c in "$@"; do
    d=$(ssebench_cli_distance "$name" "$c")
    if ((d < best_d)); then best=$c best_d=$d; fi
  done
  printf '%s' "$best"
}

# "unknown option --x (did you mean --y?)", exit 2.
ssebench_cli_unknown() {
  local prog=$1 name=$2 near
  shift 2
  near=$(ssebench_cli_closest "$name" "$@")
  ssebench_cli_fail "$prog" "unknown option $name${near:+ (did you mean $near?)}"
}

ssebench_cli_parse() {
  local file=$1 prog names=() kinds=() positional=false others=false spec a name value i kind found
  prog=$(basename "$file")
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    spec=$1
    shift
    case $spec in
      ARGS...) positional=true ;;
      --\*) others=true ;;
      *=*) names+=("${spec%%=*}") kinds+=("${spec#*=}") ;;
      *) names+=("$spec") kinds+=('') ;;
    esac
  done
  [ $# -gt 0 ] && shift
  # --help first, wherever it stands: nothing else is looked at.
  for a in "$@"; do
    [ "$a" = -- ] && break
    case $a in
      -h | --help)
        ssebench_cli_help "$file"
        if declare -F ssebench_cli_more_help >/dev/null; then ssebench_cli_more_help; fi
        exit 0
        ;;
    esac
  done
  ssebench_args=()
  while [ $# -gt 0 ]; do
    a=$1
    shift
    case $a in
      --)
        $positional || ssebench_cli_fail "$prog" "unexpected argument '--'"
        ssebench_args+=("$a" "$@")
        break
        ;;
      --*)
        name=${a%%=*}
        kind='' found=false
        for i in "${!names[@]}"; do
          if [ "${names[i]}" = "$name" ]; then kind=${kinds[i]} found=true && break; fi
        done
        if ! $found; then
          if $others && [ -z "$(ssebench_cli_closest "$name" "${names[@]}" --help)" ]; then
            ssebench_args+=("$a")
            continue
          fi
          ssebench_cli_unknown "$prog" "$name" "${names[@]}" --help
        fi
        if [ -z "$kind" ]; then
          [ "$a" = "$name" ] || ssebench_cli_fail "$prog" "$name takes no value (got '${a#*=}')"
          ssebench_args+=("$a")
          continue
        fi
        if [ "$a" = "$name" ]; then
          [ $# -gt 0 ] || ssebench_cli_fail "$prog" "$name needs a value ($name=$kind)"
          value=$1
          shift
        else
          value=${a#*=}
        fi
        if [ "$kind" = N ] && ! [[ $value =~ ^[0-9]+$ ]]; then
          ssebench_cli_fail "$prog" "$name takes a whole number (got '$value')"
        fi
        ssebench_args+=("$name=$value")
        ;;
      -?*)
        $positional || ssebench_cli_unknown "$prog" "$a" "${names[@]}" --help
        ssebench_args+=("$a")
        ;;
      *)
        $positional || ssebench_cli_fail "$prog" "unexpected argument '$a'"
        ssebench_args+=("$a")
        ;;
    esac
  done
}

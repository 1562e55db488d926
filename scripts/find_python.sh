#!/usr/bin/env bash
# Usage: find_python.sh 3.10   (the assistant: Rasa Open Source 3.6 runs on Python 3.8-3.10 only; $PYTHON overrides)
#        find_python.sh 3.11   (the lint venv .venv-lint: mypy's wheels here are cp311 only; $LINT_PYTHON overrides)
# Prints the path of a Python interpreter of that version, or explains why there is none.
# Order: the override if set, pythonX.Y on PATH (pyenv shims answer only with PYENV_VERSION), pyenv's own versions.
set -u
want="${1:?usage: find_python.sh 3.10|3.11}"
case "$want" in
  3.10) var=PYTHON;      why="Rasa Open Source 3.6 runs on Python 3.8-3.10 only."; pin=3.10.13; target=run ;;
  3.11) var=LINT_PYTHON; why="The lint venv needs it: mypy's wheels here are for 3.11 only."; pin=3.11.7; target=lint ;;
  *) echo "find_python.sh: no use known for Python $want" >&2; exit 2 ;;
esac
is_wanted() {
  "$@" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" >/dev/null 2>&1
}

override="${!var:-}"
if [ -n "$override" ]; then
  if is_wanted "$override"; then command -v "$override"; exit 0; fi
  echo "$var=$override is not a Python $want interpreter" >&2; exit 1
fi
for cand in "python$want" "/usr/bin/python$want" "/usr/local/bin/python$want"; do
  if command -v "$cand" >/dev/null 2>&1 && is_wanted "$cand"; then
    "$cand" -c 'import sys; print(sys.executable)'; exit 0
  fi
done
# pyenv: a shim only answers when that version is selected, so look at the installed versions directly
root="${PYENV_ROOT:-$HOME/.pyenv}"
if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; fi
for dir in $(ls -d "$root/versions/$want"* 2>/dev/null | sort -rV); do
  if is_wanted "$dir/bin/python$want"; then echo "$dir/bin/python$want"; exit 0; fi
done
cat >&2 <<MSG
No Python $want interpreter found. $why
Install one, for example:  pyenv install $pin   or   apt-get install python$want python$want-venv
or point $var at one:    make $var=/path/to/python$want $target
MSG
exit 1

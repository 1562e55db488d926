#!/usr/bin/env bash
# Prints the path of a Python 3.11 interpreter for the lint venv (.venv-lint: ruff and mypy, whose wheels here are
# cp311 only), or explains why there is none. Same order as find_python310.sh: $LINT_PYTHON if set, python3.11 on
# PATH (pyenv shims answer only with PYENV_VERSION), pyenv's own versions.
set -u
is311() { "$@" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' >/dev/null 2>&1; }

if [ -n "${LINT_PYTHON:-}" ]; then
  if is311 "$LINT_PYTHON"; then command -v "$LINT_PYTHON"; exit 0; fi
  echo "LINT_PYTHON=$LINT_PYTHON is not a Python 3.11 interpreter" >&2; exit 1
fi
for cand in python3.11 /usr/bin/python3.11 /usr/local/bin/python3.11; do
  if command -v "$cand" >/dev/null 2>&1 && is311 "$cand"; then
    "$cand" -c 'import sys; print(sys.executable)'; exit 0
  fi
done
# pyenv: a shim only answers when a 3.11 is selected, so look at the installed versions directly
root="${PYENV_ROOT:-$HOME/.pyenv}"
if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; fi
for dir in $(ls -d "$root"/versions/3.11* 2>/dev/null | sort -rV); do
  if is311 "$dir/bin/python3.11"; then echo "$dir/bin/python3.11"; exit 0; fi
done
cat >&2 <<MSG
No Python 3.11 interpreter found for the lint venv (ruff and mypy; mypy's wheels here are for 3.11 only).
Install one, for example:  pyenv install 3.11.7   or   apt-get install python3.11 python3.11-venv
or point LINT_PYTHON at one:  make LINT_PYTHON=/path/to/python3.11 lint
MSG
exit 1

#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 supports 3.8-3.10), or explains why there is none.
# Order: $PYTHON if set, python3.10 on PATH (pyenv shims answer only with PYENV_VERSION), pyenv's own versions.
set -u
is310() { "$@" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

if [ -n "${PYTHON:-}" ]; then
  if is310 "$PYTHON"; then command -v "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON is not a Python 3.10 interpreter" >&2; exit 1
fi
for cand in python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  if command -v "$cand" >/dev/null 2>&1 && is310 "$cand"; then
    "$cand" -c 'import sys; print(sys.executable)'; exit 0
  fi
done
# pyenv: a shim only answers when a 3.10 is selected, so look at the installed versions directly
root="${PYENV_ROOT:-$HOME/.pyenv}"
if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; fi
for dir in $(ls -d "$root"/versions/3.10* 2>/dev/null | sort -rV); do
  if is310 "$dir/bin/python3.10"; then echo "$dir/bin/python3.10"; exit 0; fi
done
cat >&2 <<MSG
No Python 3.10 interpreter found. Rasa Open Source 3.6 runs on Python 3.8-3.10 only.
Install one, for example:  pyenv install 3.10.13   or   apt-get install python3.10 python3.10-venv
or point PYTHON at one:    make PYTHON=/path/to/python3.10 run
MSG
exit 1

#!/bin/sh
# Fails when `copier update` left something unmerged anywhere in the tree:
# conflict markers in a tracked or new file, or a .rej file (the hunks of the
# release Copier could not apply). CI runs it on every push; the pre-commit
# hooks refuse the same before a commit.
set -eu
cd "$(dirname "$0")/.."
found=0
for path in $(git grep --untracked -I -l -E '^(<{7}|>{7})( |$)' -- . || true); do
    echo "conflict markers left by an update: $path"
    found=1
done
for path in $(git ls-files --cached --others --exclude-standard -- '*.rej'); do
    echo "rejected hunks left by an update: $path"
    found=1
done
if [ "$found" = 1 ]; then
    echo "merge these by hand (README.md, 'Keeping up with the template'), then commit" >&2
    exit 1
fi

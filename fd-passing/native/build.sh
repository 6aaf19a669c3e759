#!/bin/sh
# Builds the native client, its examples and its test peer, twice:
#   OUT/release/  gcc -std=c11 -O2, every warning an error
#   OUT/asan/     the same plus -fsanitize=address,undefined (the tests run the C side under it)
# In each, sluice.o is the library as users get it (the examples link it); the test peer links
# sluice-test.o, the same source with -DSLUICE_TEST_HOOKS (sluice.h: the points where a test acts
# as a hostile host). The build fails if a hook reaches sluice.o.
# Usage: build.sh OUT_DIR          (Maven runs it in fd-passing's process-test-classes phase)
# CC overrides the compiler (default gcc).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT_DIR}
cc=${CC:-gcc}

if ! command -v "$cc" >/dev/null 2>&1; then
    cat >&2 <<EOT
Sluice's native client (fd-passing/native) needs a C11 compiler to build, and '$cc' is not on
the PATH. Install gcc (Debian/Ubuntu: apt-get install gcc; Fedora: dnf install gcc), or point CC
at another compiler that takes gcc's flags. The build and the native-client tests need it.
EOT
    exit 1
fi

warnings="-Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2"
common="-std=c11 $warnings -O2 -g"
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

build() { # variant extra-flags
    dir="$out/$1"
    mkdir -p "$dir"
    # shellcheck disable=SC2086 # the flag lists are meant to split
    $cc $common $2 -c "$here/sluice.c" -o "$dir/sluice.o"
    # shellcheck disable=SC2086
    $cc $common $2 -DSLUICE_TEST_HOOKS -c "$here/sluice.c" -o "$dir/sluice-test.o"
    if grep -q sluice_test_ "$dir/sluice.o"; then
        echo "build.sh: $dir/sluice.o contains a test hook (sluice_test_*): only sluice-test.o may" >&2
        exit 1
    fi
    for prog in examples/md_subscriber examples/order_producer test/chaos_peer; do
        # shellcheck disable=SC2086
        $cc $common $2 -o "$dir/$(basename "$prog")" "$here/$prog.c" "$dir/sluice.o"
    done
    # shellcheck disable=SC2086
    $cc $common $2 -DSLUICE_TEST_HOOKS -o "$dir/sluice_peer" "$here/test/sluice_peer.c" "$dir/sluice-test.o"
}

build release ""
build asan "$sanitize"
echo "native client built into $out (release, asan) with $($cc --version | head -n 1)"

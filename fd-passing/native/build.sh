#!/bin/sh
# Builds the native client, its examples and its test programs (the peers of the fd-passing tests,
# cache_reader for the cache module's tests, and layout_constants, which prints the layout
# constants for the conformance tests), twice:
#   OUT/release/  gcc -std=c11 -O2, every warning an error
#   OUT/asan/     the same plus -fsanitize=address,undefined (the tests run the C side under it)
# In each, libsluice.a is the library as users get it (the examples link it); the test peer links
# libsluice-test.a, the same sources with -DSLUICE_TEST_HOOKS (sluice.h: the points where a test
# acts as a hostile host). The build fails if a hook reaches libsluice.a.
# Usage: build.sh OUT_DIR          (Maven runs it in fd-passing's process-test-classes phase)
# CC overrides the compiler (default gcc), AR the archiver (default ar).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT_DIR}
cc=${CC:-gcc}
ar=${AR:-ar}

if ! command -v "$cc" >/dev/null 2>&1; then
    cat >&2 <<EOT
Sluice's native client (fd-passing/native) needs a C11 compiler to build, and '$cc' is not on
the PATH. Install gcc (Debian/Ubuntu: apt-get install gcc; Fedora: dnf install gcc), or point CC
at another compiler that takes gcc's flags. The build and the native-client tests need it; to
build and test only the Java library, run Maven with -Dnative.skip.
EOT
    exit 1
fi

# The library's units, one concern each (README.md in this directory lists them).
units="errors escape packet protocol region attach channel spsc broadcast mpmc park snapshot shared_map cache_client"

warnings="-Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2"
common="-std=c11 $warnings -O2 -g"
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

library() { # dir lib-name extra-flags
    mkdir -p "$1/obj-$2"
    objs=""
    for u in $units; do
        # shellcheck disable=SC2086 # the flag lists are meant to split
        $cc $common $3 -c "$here/$u.c" -o "$1/obj-$2/$u.o"
        objs="$objs $1/obj-$2/$u.o"
    done
    rm -f "$1/$2.a"
    # shellcheck disable=SC2086
    $ar rcs "$1/$2.a" $objs
}

build() { # variant extra-flags
    dir="$out/$1"
    mkdir -p "$dir"
    library "$dir" libsluice "$2"
    library "$dir" libsluice-test "$2 -DSLUICE_TEST_HOOKS"
    if grep -q sluice_test_ "$dir/libsluice.a"; then
        echo "build.sh: $dir/libsluice.a contains a test hook (sluice_test_*): only libsluice-test.a may" >&2
        exit 1
    fi
    for prog in examples/md_subscriber examples/order_producer examples/snapshot_reader test/chaos_peer test/cache_reader; do
        # shellcheck disable=SC2086
        $cc $common $2 -o "$dir/$(basename "$prog")" "$here/$prog.c" "$dir/libsluice.a"
    done
    # shellcheck disable=SC2086
    $cc $common $2 -DSLUICE_TEST_HOOKS -o "$dir/sluice_peer" "$here/test/sluice_peer.c" "$dir/libsluice-test.a"
    # shellcheck disable=SC2086
    $cc $common $2 -o "$dir/layout_constants" "$here/test/layout_constants.c"
}

# The conformance test compares what layout_constants prints with the host's constants: every
# constant of sluice_layout.h must be printed, or a new one would escape the comparison.
for name in $(sed -n 's/^#define \(SLI_[A-Z0-9_]*\).*/\1/p' "$here/sluice_layout.h"); do
    if ! grep -q "P($name);" "$here/test/layout_constants.c"; then
        echo "build.sh: $name (sluice_layout.h) is not printed by test/layout_constants.c" >&2
        exit 1
    fi
done

build release ""
build asan "$sanitize"
echo "native client built into $out (release, asan) with $($cc --version | head -n 1)"

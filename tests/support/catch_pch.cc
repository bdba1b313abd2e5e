// Nothing: the target exists to build the precompiled <catch2/catch.hpp> the unit tests reuse.

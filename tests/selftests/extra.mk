# SPDX-License-Identifier: GPL-2.0
# The kernel's tools/testing/selftests/bpf/Makefile, plus test_maps_array built with its very
# flags and objects. Used by scripts/build-selftests.sh as `make -f` from the selftests dir.
include Makefile

RUST_ARRAYMAP_SELFTESTS ?= $(error RUST_ARRAYMAP_SELFTESTS is not set)

# The map_tests/tests.h of RUST_ARRAYMAP_SELFTESTS comes first: only the array map_tests.
$(OUTPUT)/test_maps_array: $(RUST_ARRAYMAP_SELFTESTS)/test_maps_array.c		\
			   $(RUST_ARRAYMAP_SELFTESTS)/map_tests/tests.h			\
			   $(OUTPUT)/test_maps
	$(call msg,BINARY,,$@)
	$(Q)$(CC) -I$(RUST_ARRAYMAP_SELFTESTS) $(CFLAGS) -Wno-unused-function $<	\
		$(OUTPUT)/array_map_batch_ops.test.o					\
		$(OUTPUT)/map_in_map_batch_ops.test.o					\
		$(TESTING_HELPERS) $(BPFOBJ) $(LDLIBS) $(LDFLAGS) -o $@

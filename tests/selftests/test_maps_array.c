// SPDX-License-Identifier: GPL-2.0
/*
 * test_maps_array: the array-family tests of the kernel's test_maps, one at a time.
 *
 * test_maps runs every map test in one process and stops at the first failure, sockmap and
 * devmap included. This driver compiles the kernel's own test_maps.c unchanged (its main()
 * renamed) and calls one of its array tests, named on the command line, so that each can be
 * run and reported on its own:
 *
 *   test_maps_array arraymap | arraymap_percpu | arraymap_percpu_many_keys | map_in_map |
 *                   array_map_batch_ops | map_in_map_batch_ops_array
 *
 * Run it from the selftests' output directory (test_map_in_map.bpf.o is loaded from there).
 * The map_tests/tests.h next to this file lists the map_tests it links (array ones only).
 */
#define main test_maps_main
#include "test_maps.c"
#undef main

int main(int argc, char **argv)
{
	const char *t = argc > 1 ? argv[1] : "";

	srand(time(NULL));
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	map_opts.map_flags = 0;
	if (!strcmp(t, "arraymap"))
		test_arraymap(0, NULL);
	else if (!strcmp(t, "arraymap_percpu"))
		test_arraymap_percpu(0, NULL);
	else if (!strcmp(t, "arraymap_percpu_many_keys"))
		test_arraymap_percpu_many_keys();
	else if (!strcmp(t, "map_in_map"))
		test_map_in_map();
	else if (!strcmp(t, "array_map_batch_ops"))
		test_array_map_batch_ops();
	else if (!strcmp(t, "map_in_map_batch_ops_array"))
		test_map_in_map_batch_ops_array();
	else {
		fprintf(stderr, "unknown test '%s'\n", t);
		return 2;
	}
	printf("test_maps_array %s: OK, %d SKIPPED\n", t, skips);
	return 0;
}

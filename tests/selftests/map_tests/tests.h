/* SPDX-License-Identifier: GPL-2.0 */
/* The map_tests linked into test_maps_array (found before the generated tests.h). */
DEFINE_TEST(array_map_batch_ops)
DEFINE_TEST(map_in_map_batch_ops_array)

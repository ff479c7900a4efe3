/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The context of iter/bpf_map_elem programs, with CO-RE relocations against the kernel's BTF
 * (these programs are built without vmlinux.h).
 */
#ifndef AMTEST_ITER_CTX_H
#define AMTEST_ITER_CTX_H

struct seq_file;
struct bpf_map;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct bpf_iter__bpf_map_elem {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
	void *key;
	void *value;
} __attribute__((preserve_access_index));

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * BPF side of the differential fuzzer (tests/mapfuzz.c): one program per map under test,
 * run through BPF_PROG_TEST_RUN. The fuzzer points `target` at the map (bpf_map__reuse_fd)
 * before loading, so the verifier sees the map's real type and value size, and inlines its
 * lookups as it would for any program. Values travel through `vbuf` (.bss, mmapped).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "iter_ctx.h"

#define VMAX 4096

enum { OP_LOOKUP, OP_UPDATE, OP_DELETE, OP_FOR_EACH, OP_LOOKUP_PERCPU };

/* The context: what user space asks (op .. stop) and what the program answers (ret ..). */
struct args {
	__u32 op;
	__u32 key;
	__u64 flags;
	__u32 cpu;
	__u32 vsize;		/* bytes of a looked-up value copied to vbuf */
	__u32 stop;		/* for_each: stop after this many elements */
	__u32 pad;
	__s64 ret;
	__u64 count;
	__u64 sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} target SEC(".maps");

char vbuf[VMAX];

struct walk {
	__u64 count;
	__u64 sum;
	__u32 stop;
};

static long visit(void *map, __u32 *key, __u8 *value, struct walk *w)
{
	w->count++;
	w->sum = w->sum * 31 + *key * 7 + *value;
	return w->count >= w->stop;
}

/* A looked-up value, or -1 for NULL, into the context and vbuf. */
static int copy_out(struct args *a, void *v)
{
	__u32 n = a->vsize;

	if (!v) {
		a->ret = -1;
		return 0;
	}
	if (n > VMAX)
		n = VMAX;
	a->ret = bpf_probe_read_kernel(vbuf, n, v);
	return 0;
}

SEC("syscall")
int fuzz(struct args *a)
{
	struct walk w = { .stop = a->stop };
	__u32 key = a->key;

	switch (a->op) {
	case OP_LOOKUP:
		return copy_out(a, bpf_map_lookup_elem(&target, &key));
	case OP_UPDATE:
		a->ret = bpf_map_update_elem(&target, &key, vbuf, a->flags);
		return 0;
	case OP_DELETE:
		a->ret = bpf_map_delete_elem(&target, &key);
		return 0;
	case OP_FOR_EACH:
		a->ret = bpf_for_each_map_elem(&target, visit, &w, a->flags);
		a->count = w.count;
		a->sum = w.sum;
		return 0;
	}
	return 1;
}

/* Loaded for PERCPU_ARRAY maps only: the verifier takes the helper for per-CPU maps alone. */
SEC("syscall")
int fuzz_percpu(struct args *a)
{
	__u32 key = a->key;

	return copy_out(a, bpf_map_lookup_percpu_elem(&target, &key, a->cpu));
}

/*
 * An iterator over the map it is attached to (mapfuzz's "iter" op): per element its sequence
 * number, key and first byte (of CPU 0's copy for a per-CPU map), then the count at the end.
 */
SEC("iter/bpf_map_elem")
int fuzz_iter(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u32 *key = ctx->key;
	__u8 *value = ctx->value;

	if (!key || !value) {
		BPF_SEQ_PRINTF(seq, "end at %llu\n", ctx->meta->seq_num);
		return 0;
	}
	BPF_SEQ_PRINTF(seq, "%llu %u %x\n", ctx->meta->seq_num, *key, *value);
	return 0;
}

char _license[] SEC("license") = "GPL";

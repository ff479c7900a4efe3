// SPDX-License-Identifier: GPL-2.0
/* BPF side of "pcputest": PERCPU_ARRAY maps from BPF programs run on chosen CPUs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "iter_ctx.h"

#define MAX_CPUS 64

struct val {
	__u64 cpu;
	__u64 seq;
	__u64 tag;
};

/* 5 entries: rounded up to 8 against Spectre v1 for unprivileged creators. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, struct val);
} pcpu SEC(".maps");

/* A second map of the same type: a lookup site that sees both cannot be inlined. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, struct val);
} pcpu2 SEC(".maps");

/* 12-byte values: the per-CPU copies are rounded up to 16 bytes. */
struct val12 {
	__u32 a, b, c;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct val12);
} odd SEC(".maps");

/* .percpu global data: a PERCPU_ARRAY of one element, addressed directly. */
__u64 hits SEC(".percpu");
__u64 hits_tag SEC(".percpu");

__u32 key;
__u64 tag;
int found;

/* Lookup (inlined), then write this CPU's copy in place. */
SEC("raw_tp")
int write_cpu(void *ctx)
{
	struct val *v = bpf_map_lookup_elem(&pcpu, &key);

	found = v != 0;
	if (!v)
		return 0;
	v->cpu = bpf_get_smp_processor_id();
	v->seq++;
	v->tag = tag;
	return 0;
}

/* The same through the map's lookup op: the call site sees two maps (the verifier poisons
 * the map pointer and keeps the helper call).
 */
__u32 which;

SEC("raw_tp")
int write_cpu_call(void *ctx)
{
	void *map = which ? (void *)&pcpu2 : (void *)&pcpu;
	struct val *v = bpf_map_lookup_elem(map, &key);

	found = v != 0;
	if (!v)
		return 0;
	v->cpu = bpf_get_smp_processor_id();
	v->seq += 10;
	v->tag = tag;
	return 0;
}

/* The update helper on this CPU's copy, and its errors. */
int update_ret;

SEC("raw_tp")
int update_cpu(void *ctx)
{
	struct val v = { .cpu = bpf_get_smp_processor_id(), .seq = 1000, .tag = tag };

	update_ret = bpf_map_update_elem(&pcpu, &key, &v, BPF_ANY);
	return 0;
}

int update_noexist_ret, update_lock_ret, update_big_ret, delete_ret;

SEC("raw_tp")
int update_errors(void *ctx)
{
	struct val v = {};
	__u32 k = 0, big = 5;

	update_noexist_ret = bpf_map_update_elem(&pcpu, &k, &v, BPF_NOEXIST);
	update_lock_ret = bpf_map_update_elem(&pcpu, &k, &v, BPF_F_LOCK);
	update_big_ret = bpf_map_update_elem(&pcpu, &big, &v, BPF_ANY);
	delete_ret = bpf_map_delete_elem(&pcpu, &k);
	return 0;
}

/* Possible CPUs, set before load: loops bounded by it are unrolled by the verifier. */
volatile const __u32 nr_cpus = 1;

/* bpf_map_lookup_percpu_elem() for every CPU number up to nr_cpus + 1. */
__u64 percpu_seq[MAX_CPUS + 2];
__u64 percpu_cpu[MAX_CPUS + 2];
int percpu_found[MAX_CPUS + 2];

SEC("raw_tp")
int read_percpu(void *ctx)
{
	__u32 cpu;

	for (cpu = 0; cpu < nr_cpus + 2 && cpu < MAX_CPUS + 2; cpu++) {
		struct val *v;

		v = bpf_map_lookup_percpu_elem(&pcpu, &key, cpu);
		percpu_found[cpu] = v != 0;
		if (v) {
			percpu_seq[cpu] = v->seq;
			percpu_cpu[cpu] = v->cpu;
		}
	}
	return 0;
}

/* .percpu global data, written on the CPU the program runs on. */
SEC("raw_tp")
int count_hits(void *ctx)
{
	hits++;
	hits_tag = tag;
	return 0;
}

/* bpf_for_each_map_elem() over this CPU's copies. */
struct each_ctx {
	__u64 seq_sum;
	__u64 tag_sum;
	__u32 calls;
	__u32 stop_at;
};

static long each_cb(void *map, __u32 *k, struct val *v, struct each_ctx *c)
{
	c->calls++;
	c->seq_sum += v->seq;
	c->tag_sum += v->tag;
	return *k + 1 == c->stop_at;
}

__u32 stop_at;
__u64 each_seq_sum, each_tag_sum;
long each_ret;
__u32 each_calls;
long each_flags_ret;

SEC("raw_tp")
int for_each_cpu(void *ctx)
{
	struct each_ctx c = { .stop_at = stop_at };

	each_ret = bpf_for_each_map_elem(&pcpu, each_cb, &c, 0);
	each_seq_sum = c.seq_sum;
	each_tag_sum = c.tag_sum;
	each_calls = c.calls;
	each_flags_ret = bpf_for_each_map_elem(&pcpu, each_cb, &c, 1);
	return 0;
}

/* iter/bpf_map_elem: the values of all possible CPUs, side by side. */
SEC("iter/bpf_map_elem")
int dump_pcpu(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u32 *k = ctx->key;
	struct val *v = ctx->value;
	__u64 seq_sum = 0, tag_sum = 0;
	__u32 cpu;

	if (!k || !v) {
		BPF_SEQ_PRINTF(seq, "end of map\n");
		return 0;
	}
	for (cpu = 0; cpu < nr_cpus && cpu < MAX_CPUS; cpu++) {
		seq_sum += v[cpu].seq;
		tag_sum += v[cpu].tag;
	}
	BPF_SEQ_PRINTF(seq, "%u: seq %llu tag %llu\n", *k, seq_sum, tag_sum);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

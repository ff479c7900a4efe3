// SPDX-License-Identifier: GPL-2.0
/* BPF side of `make bench`: each program does LOOPS map operations per run, and
 * BPF_PROG_TEST_RUN repeats it, so the per-run overhead of test_run is shared out.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define LOOPS 64

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { &inner },
};

__u64 sink;

/* Map operations that failed (a lookup without a value, an update that failed): ambench
 * requires none, so that a failing operation is never timed as a fast one. */
__u64 errors;

SEC("xdp")
int lookup(struct xdp_md *ctx)
{
	__u64 sum = 0;
	__u32 i;

	for (i = 0; i < LOOPS; i++) {
		__u32 k = i * 13 % 1024;
		__u64 *v = bpf_map_lookup_elem(&arr, &k);

		if (v)
			sum += *v;
		else
			errors++;
	}
	sink = sum;
	return XDP_PASS;
}

SEC("xdp")
int update(struct xdp_md *ctx)
{
	__u32 i;

	for (i = 0; i < LOOPS; i++) {
		__u32 k = i * 13 % 1024;
		__u64 v = i;

		if (bpf_map_update_elem(&arr, &k, &v, BPF_ANY))
			errors++;
	}
	return XDP_PASS;
}

static __u64 add(void *map, __u32 *key, __u64 *val, __u64 *sum)
{
	*sum += *val;
	return 0;
}

SEC("xdp")
int for_each(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_for_each_map_elem(&arr, add, &sum, 0);
	sink = sum;
	return XDP_PASS;
}

SEC("xdp")
int map_in_map(struct xdp_md *ctx)
{
	__u64 sum = 0;
	__u32 i, zero = 0;

	for (i = 0; i < LOOPS; i++) {
		__u32 k = i;
		void *m = bpf_map_lookup_elem(&outer, &zero);
		__u64 *v;

		if (!m) {
			errors++;
			break;
		}
		v = bpf_map_lookup_elem(m, &k);
		if (v)
			sum += *v;
		else
			errors++;
	}
	sink = sum;
	return XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

SEC("xdp")
int pcpu_lookup(struct xdp_md *ctx)
{
	__u64 sum = 0;
	__u32 i;

	for (i = 0; i < LOOPS; i++) {
		__u32 k = i * 13 % 1024;
		__u64 *v = bpf_map_lookup_elem(&pcpu, &k);

		if (v)
			sum += *v;
		else
			errors++;
	}
	sink = sum;
	return XDP_PASS;
}

SEC("xdp")
int pcpu_update(struct xdp_md *ctx)
{
	__u32 i;

	for (i = 0; i < LOOPS; i++) {
		__u32 k = i * 13 % 1024;
		__u64 v = i;

		if (bpf_map_update_elem(&pcpu, &k, &v, BPF_ANY))
			errors++;
	}
	return XDP_PASS;
}

SEC("xdp")
int pcpu_lookup_percpu(struct xdp_md *ctx)
{
	__u64 sum = 0;
	__u32 i;

	for (i = 0; i < LOOPS; i++) {
		__u32 k = i * 13 % 1024;
		__u64 *v = bpf_map_lookup_percpu_elem(&pcpu, &k, i & 1);

		if (v)
			sum += *v;
		else
			errors++;
	}
	sink = sum;
	return XDP_PASS;
}

SEC("xdp")
int pcpu_for_each(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_for_each_map_elem(&pcpu, add, &sum, 0);
	sink = sum;
	return XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

__u32 jmp_key;

/* One tail call per run through slot jmp_key (a variable: no JIT patching). */
SEC("xdp")
int tail_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, jmp_key);
	return XDP_DROP;
}

SEC("xdp")
int tail_target(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

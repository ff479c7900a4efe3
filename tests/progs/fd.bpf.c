// SPDX-License-Identifier: GPL-2.0
/*
 * BPF side of "fdtest": the fd arrays (PROG_ARRAY, PERF_EVENT_ARRAY, CGROUP_ARRAY,
 * ARRAY_OF_MAPS) as BPF programs use them.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* More slots than the tail call limit (MAX_TAIL_CALL_CNT, 33) lets a chain take. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 40);
	__type(key, __u32);
	__type(value, __u32);
} chain_jmp SEC(".maps");

/* Jumped through with a constant key: a direct tail call that the JIT patches. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} direct_jmp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 8);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 2);
} cgroups SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps");

__u32 chain_count;
__u32 direct_ret;
__u32 hit;
__u32 sample_tag;
__u32 counter_idx;
long counter_ret;
struct bpf_perf_event_value counter_val;
__u32 cgroup_idx;
long under_ret;
__u32 outer_key;
__u32 inner_key;
int inner_found;
__u64 inner_value;

/* Each run counts itself and tail calls the next slot; every slot holds this program. */
SEC("raw_tp")
int chain(void *ctx)
{
	chain_count++;
	bpf_tail_call(ctx, &chain_jmp, chain_count);
	return 0;
}

SEC("raw_tp")
int direct(void *ctx)
{
	hit = 0;
	bpf_tail_call(ctx, &direct_jmp, 0);
	/* Only reached when slot 0 is empty. */
	direct_ret = 1;
	return 1;
}

SEC("raw_tp")
int target_a(void *ctx)
{
	hit = 'a';
	direct_ret = 2;
	return 2;
}

SEC("raw_tp")
int target_b(void *ctx)
{
	hit = 'b';
	direct_ret = 3;
	return 3;
}

struct sample {
	__u32 cpu;
	__u32 tag;
};

SEC("raw_tp")
int emit(void *ctx)
{
	struct sample s = { .cpu = bpf_get_smp_processor_id(), .tag = sample_tag };

	return bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &s, sizeof(s));
}

SEC("raw_tp")
int read_counter(void *ctx)
{
	counter_ret = bpf_perf_event_read_value(&counters, counter_idx, &counter_val,
						sizeof(counter_val));
	return 0;
}

SEC("raw_tp")
int task_under(void *ctx)
{
	under_ret = bpf_current_task_under_cgroup(&cgroups, cgroup_idx);
	return 0;
}

SEC("tc")
int skb_under(struct __sk_buff *skb)
{
	under_ret = bpf_skb_under_cgroup(skb, &cgroups, cgroup_idx);
	return TC_ACT_OK;
}

/* A global function for an freplace program (fdtest errno: EXT programs and PROG_ARRAYs). */
__noinline int ext_target_sub(struct __sk_buff *skb)
{
	return skb ? skb->len : 1;
}

SEC("tc")
int ext_target(struct __sk_buff *skb)
{
	return ext_target_sub(skb);
}

/* Loaded only by fdtest errno, against ext_target. */
SEC("?freplace/ext_target_sub")
int ext_replacement(struct __sk_buff *skb)
{
	return 0;
}

/* Inlined lookups: outer (array_of_map_gen_lookup), then the inner ARRAY. */
SEC("raw_tp")
int read_inner(void *ctx)
{
	__u64 *v;
	void *in;

	inner_found = 0;
	in = bpf_map_lookup_elem(&outer, &outer_key);
	if (!in)
		return 0;
	inner_found = 1;
	v = bpf_map_lookup_elem(in, &inner_key);
	if (!v)
		return 0;
	inner_found = 2;
	inner_value = *v;
	return 0;
}

char _license[] SEC("license") = "GPL";

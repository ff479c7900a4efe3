// SPDX-License-Identifier: GPL-2.0
/*
 * BPF side of "defects": the triggers of arraymap.c's historic defects, one group per fix
 * (Documentation/historic-defects.rst). vmlinux.h: timers, kptrs and the cgroup kfuncs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define __kptr __attribute__((btf_type_tag("kptr")))
#define CLOCK_MONOTONIC 1
#define EDEADLK 35

/*
 * a8abb0c3dc1e (CVE-2022-48940): a value holding a timer and a spin lock, the timer first:
 * copy_map_value() must step over both, whatever their order.
 */
struct lt_val {
	struct bpf_timer t;
	struct bpf_spin_lock l;
	__u32 pad;
	__u64 data;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, int);
	__type(value, struct lt_val);
} lock_timer SEC(".maps");

__u64 lt_delay_ns;
int lt_fired;
long lt_cancel;

static int lt_cb(void *map, int *key, struct lt_val *v)
{
	__sync_fetch_and_add(&lt_fired, 1);
	return 0;
}

SEC("xdp")
int lt_arm(struct xdp_md *ctx)
{
	int k = 0;
	struct lt_val *v = bpf_map_lookup_elem(&lock_timer, &k);

	if (!v)
		return 1;
	if (bpf_timer_init(&v->t, &lock_timer, CLOCK_MONOTONIC))
		return 2;
	if (bpf_timer_set_callback(&v->t, lt_cb))
		return 3;
	return bpf_timer_start(&v->t, lt_delay_ns, 0) ? 4 : 0;
}

/* Both locks taken and released, the timer of element 0 cancelled: what survived the update. */
SEC("xdp")
int lt_use(struct xdp_md *ctx)
{
	int k;

	for (k = 0; k < 2; k++) {
		int key = k;
		struct lt_val *v = bpf_map_lookup_elem(&lock_timer, &key);

		if (!v)
			return 1;
		bpf_spin_lock(&v->l);
		v->data++;
		bpf_spin_unlock(&v->l);
		if (!k)
			lt_cancel = bpf_timer_cancel(&v->t);
	}
	return 0;
}

/*
 * 0281b919e175, a6fcd19d7eac, d4523831f07a (CVE-2024-26737, -41045, -42239): a callback that
 * cancels its own timer (-EDEADLK, not a deadlock), sees its element's key, and re-arms itself
 * for ever: only the map's last user reference going (release_uref) breaks the cycle
 * timer -> callback program -> map.
 */
struct tc_val {
	struct bpf_timer t;
	__u64 fired;
	long cancel;
	int key;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, int);
	__type(value, struct tc_val);
} self_cancel SEC(".maps");

int tc_rearm;

static int tc_cb(void *map, int *key, struct tc_val *v)
{
	v->fired++;
	v->key = *key;
	v->cancel = bpf_timer_cancel(&v->t);
	if (tc_rearm)
		bpf_timer_start(&v->t, 1000 * 1000, 0);
	return 0;
}

SEC("xdp")
int tc_arm(struct xdp_md *ctx)
{
	int k = 2;
	struct tc_val *v = bpf_map_lookup_elem(&self_cancel, &k);

	if (!v)
		return 1;
	if (bpf_timer_init(&v->t, &self_cancel, CLOCK_MONOTONIC))
		return 2;
	if (bpf_timer_set_callback(&v->t, tc_cb))
		return 3;
	return bpf_timer_start(&v->t, 1000 * 1000, 0) ? 4 : 0;
}

/*
 * a3a81d247651: an update of an element cancels its timers and work items only; a referenced
 * kptr in it stays until the map is freed.
 */
struct kp_val {
	struct cgroup __kptr *cg;
	__u64 data;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, int);
	__type(value, struct kp_val);
} kptrs SEC(".maps");

__u64 kp_cgid;
int kp_present;

SEC("syscall")
int kp_store(void *ctx)
{
	struct cgroup *cg, *old;
	struct kp_val *v;
	int k = 1;

	v = bpf_map_lookup_elem(&kptrs, &k);
	if (!v)
		return 1;
	cg = bpf_cgroup_from_id(kp_cgid);
	if (!cg)
		return 2;
	old = bpf_kptr_xchg(&v->cg, cg);
	if (old)
		bpf_cgroup_release(old);
	return 0;
}

/* Whether element 1 still holds its cgroup (taken out and put back). */
SEC("syscall")
int kp_probe(void *ctx)
{
	struct cgroup *old;
	struct kp_val *v;
	int k = 1;

	v = bpf_map_lookup_elem(&kptrs, &k);
	if (!v)
		return 1;
	old = bpf_kptr_xchg(&v->cg, NULL);
	kp_present = old != NULL;
	if (old) {
		old = bpf_kptr_xchg(&v->cg, old);
		if (old)
			bpf_cgroup_release(old);
	}
	return 0;
}

/* The same update from a program: the helper's path of the map. */
SEC("syscall")
int kp_update(void *ctx)
{
	struct kp_val zero = {};
	int k = 1;

	return bpf_map_update_elem(&kptrs, &k, &zero, BPF_ANY) ? 1 : 0;
}

/*
 * 53040a81ae57: a lookup in an inner array through a BPF_F_INNER_MAP template (8 entries) that
 * is smaller (2 entries): bounded by the inner map's own size, never inlined from the template.
 */
struct inner_any {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner_any);
} outer_any SEC(".maps");

volatile __u32 in_key;
int in_found;
__u64 in_value;

SEC("syscall")
int in_lookup(void *ctx)
{
	__u32 k0 = 0, k = in_key;
	void *inner = bpf_map_lookup_elem(&outer_any, &k0);
	__u64 *v;

	if (!inner) {
		in_found = -1;
		return 0;
	}
	v = bpf_map_lookup_elem(inner, &k);
	in_found = v != NULL;
	in_value = v ? *v : 0;
	return 0;
}

/*
 * d4965578267e (CVE-2025-38202): bpf_map_lookup_percpu_elem() from a sleepable program (a
 * syscall program runs under RCU tasks trace), through the JIT's direct call or, with the JIT
 * off, the helper.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

__s64 pc_seen[4];

SEC("syscall")
int pc_lookup(void *ctx)
{
	__u32 k = 1, cpu;

	for (cpu = 0; cpu < 4; cpu++) {
		__u64 *v = bpf_map_lookup_percpu_elem(&pcpu, &k, cpu);

		pc_seen[cpu] = v ? (__s64)*v : -1;
	}
	return 0;
}

/*
 * f263a81451c1 (CVE-2021-47303): a direct tail call in a subprogram; the program freed while
 * its PROG_ARRAY lives on, so that updates of the array must no longer patch it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} poke_jmp SEC(".maps");

SEC("tc")
int pk_t0(struct __sk_buff *skb)
{
	return 10;
}

SEC("tc")
int pk_t1(struct __sk_buff *skb)
{
	return 11;
}

SEC("tc")
int pk_t2(struct __sk_buff *skb)
{
	return 12;
}

static __attribute__((noinline)) int pk_sub(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &poke_jmp, 0);
	return 1;
}

SEC("tc")
int pk_caller(struct __sk_buff *skb)
{
	bpf_tail_call_static(skb, &poke_jmp, 1);
	return pk_sub(skb);
}

char LICENSE[] SEC("license") = "GPL";

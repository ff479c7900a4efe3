// SPDX-License-Identifier: GPL-2.0
/* BPF side of "amtest skel": lookups, updates and global data on ARRAY maps. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "iter_ctx.h"

#define CLOCK_MONOTONIC 1
#define E2BIG 7
#define EEXIST 17
#define EINVAL 22

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

/* 24-byte values: not a power of two, so the inlined lookup multiplies. */
struct big {
	__u64 a[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, struct big);
} bigs SEC(".maps");

/* Map in map: ARRAY inner maps (served by the module when it is loaded) in the built-in
 * ARRAY_OF_MAPS and HASH_OF_MAPS.
 */
struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} inner0 SEC(".maps"), inner1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { &inner0, &inner1 },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer_hash SEC(".maps") = {
	.values = { [1] = &inner1 },
};

__u32 outer_key, inner_key;
__u64 inner_result, inner_hash_result;
int inner_found;

__u64 bss_counter;
__u64 data_var = 1;
const volatile __u64 ro_var;

__u32 lookup_key;
__u64 lookup_result;
int lookup_found;

int oob_lookup_null;
long long oob_update_err, noexist_err, delete_err, badflag_err;

SEC("syscall")
int prog_lookup(void *ctx)
{
	__u32 k = lookup_key;
	__u64 *v = bpf_map_lookup_elem(&vals, &k);

	if (!v) {
		lookup_found = 0;
		return 0;
	}
	lookup_found = 1;
	lookup_result = *v;
	return 0;
}

SEC("syscall")
int prog_update(void *ctx)
{
	__u32 i;

	/* The helpers take the key's address: keep the loop counter apart. */
	for (i = 0; i < 16; i++) {
		__u32 k = i;
		__u64 v = i * 100 + data_var + ro_var;

		bpf_map_update_elem(&vals, &k, &v, BPF_ANY);
	}
	for (i = 0; i < 5; i++) {
		__u32 k = i;
		struct big b = { .a = { i, i * 2, i * 3 } };

		bpf_map_update_elem(&bigs, &k, &b, BPF_ANY);
	}
	bss_counter++;
	return 0;
}

long long self_update_err = 1;

/* An update whose value is the element itself: source and destination are the same bytes. */
SEC("syscall")
int prog_update_self(void *ctx)
{
	__u32 k = 3;
	__u64 *v = bpf_map_lookup_elem(&vals, &k);

	if (v)
		self_update_err = bpf_map_update_elem(&vals, &k, v, BPF_ANY);
	return 0;
}

SEC("syscall")
int prog_errors(void *ctx)
{
	__u32 k = 16, zero = 0;
	__u64 v = 5;

	oob_lookup_null = bpf_map_lookup_elem(&vals, &k) == 0;
	oob_update_err = bpf_map_update_elem(&vals, &k, &v, BPF_ANY);
	noexist_err = bpf_map_update_elem(&vals, &zero, &v, BPF_NOEXIST);
	delete_err = bpf_map_delete_elem(&vals, &zero);
	badflag_err = bpf_map_update_elem(&vals, &zero, &v, 8);
	return 0;
}

SEC("syscall")
int prog_inner(void *ctx)
{
	__u32 ok = outer_key, ik = inner_key;
	__u64 *v;
	void *m;

	inner_found = 0;
	m = bpf_map_lookup_elem(&outer, &ok);
	if (!m)
		return 0;
	v = bpf_map_lookup_elem(m, &ik);
	if (!v)
		return 0;
	inner_found = 1;
	inner_result = *v;
	m = bpf_map_lookup_elem(&outer_hash, &ok);
	if (!m)
		return 0;
	v = bpf_map_lookup_elem(m, &ik);
	if (v)
		inner_hash_result = *v;
	return 0;
}

long long foreach_visited, foreach_all, foreach_flags_err;
__u64 foreach_sum;

struct foreach_ctx {
	__u64 sum;
	__u32 stop;
};

static __u64 sum_until(void *map, __u32 *key, __u64 *val, struct foreach_ctx *ctx)
{
	ctx->sum += *val;
	return *key == ctx->stop;
}

SEC("syscall")
int prog_for_each(void *ctx)
{
	struct foreach_ctx c = { .stop = 9 };

	foreach_visited = bpf_for_each_map_elem(&vals, sum_until, &c, 0);
	foreach_sum = c.sum;
	c.stop = 100;
	foreach_all = bpf_for_each_map_elem(&vals, sum_until, &c, 0);
	foreach_flags_err = bpf_for_each_map_elem(&vals, sum_until, &c, 1);
	return 0;
}

/* Special fields: a spin lock (BPF_F_LOCK from user space) and a timer. */
struct locked {
	struct bpf_spin_lock lock;
	__u64 a;
	__u64 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

SEC("syscall")
int prog_locked_inc(void *ctx)
{
	__u32 k = 0;
	struct locked *l = bpf_map_lookup_elem(&locks, &k);

	if (!l)
		return 1;
	bpf_spin_lock(&l->lock);
	l->a++;
	l->b++;
	bpf_spin_unlock(&l->lock);
	return 0;
}

struct timed {
	struct bpf_timer timer;
	__u64 fired;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct timed);
} timers SEC(".maps");

__u64 timer_delay_ns;
long long timer_err;
int timers_fired;
/* Set: each timer is cancelled right after its start (bpf_timer_cancel_async()), whose
 * returns add up in timers_cancelled (1 each: the timer was active).
 */
int timer_cancel_async;
long long timers_cancelled;

extern int bpf_timer_cancel_async(struct bpf_timer *timer) __ksym;

static int timer_cb(void *map, __u32 *key, struct timed *t)
{
	t->fired++;
	__sync_fetch_and_add(&timers_fired, 1);
	return 0;
}

SEC("xdp")
int prog_timers(struct xdp_md *ctx)
{
	__u32 k;

	for (k = 0; k < 4; k++) {
		__u32 key = k;
		struct timed *t = bpf_map_lookup_elem(&timers, &key);

		if (!t)
			return 1;
		timer_err |= bpf_timer_init(&t->timer, &timers, CLOCK_MONOTONIC);
		timer_err |= bpf_timer_set_callback(&t->timer, timer_cb);
		timer_err |= bpf_timer_start(&t->timer, timer_delay_ns, 0);
		if (timer_cancel_async)
			timers_cancelled += bpf_timer_cancel_async(&t->timer);
	}
	return 2;
}

/* bpf_iter over vals (iter/bpf_map_elem). */

SEC("iter/bpf_map_elem")
int dump_vals(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u32 *key = ctx->key;
	__u64 *val = ctx->value;

	if (!key || !val) {
		BPF_SEQ_PRINTF(seq, "end of map\n");
		return 0;
	}
	BPF_SEQ_PRINTF(seq, "%u: %llu\n", *key, *val);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/* BPF side of "amtest kptr" and "amtest wq": special fields that need kfuncs (vmlinux.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define __kptr __attribute__((btf_type_tag("kptr")))
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))

/* A referenced kptr: the map holds a cgroup reference until its free drops it; and an
 * unreferenced one next to it, which holds nothing.
 */
struct cg_val {
	struct cgroup __kptr *cg;
	struct cgroup __kptr_untrusted *ucg;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, int);
	__type(value, struct cg_val);
} cgs SEC(".maps");

__u64 cgid;

SEC("syscall")
int store_cgroup(void *ctx)
{
	struct cgroup *cg, *old;
	struct cg_val *v;
	int k = 1;

	v = bpf_map_lookup_elem(&cgs, &k);
	if (!v)
		return 1;
	cg = bpf_cgroup_from_id(cgid);
	if (!cg)
		return 2;
	v->ucg = cg;
	old = bpf_kptr_xchg(&v->cg, cg);
	if (old)
		bpf_cgroup_release(old);
	return 0;
}

/* An unreferenced kptr in a PERCPU_ARRAY value: copied out to user space, it reads as zero. */
struct pcg_val {
	__u64 tag;
	struct cgroup __kptr_untrusted *ucg;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, int);
	__type(value, struct pcg_val);
} pcgs SEC(".maps");

SEC("syscall")
int store_percpu_unref(void *ctx)
{
	struct pcg_val *v;
	struct cgroup *cg;
	int k = 0;

	v = bpf_map_lookup_elem(&pcgs, &k);
	if (!v)
		return 1;
	cg = bpf_cgroup_from_id(cgid);
	if (!cg)
		return 2;
	v->tag = 0x7a67;
	v->ucg = cg;
	bpf_cgroup_release(cg);
	return 0;
}

int ucg_set;

SEC("syscall")
int read_unref(void *ctx)
{
	struct cg_val *v;
	int k = 1;

	v = bpf_map_lookup_elem(&cgs, &k);
	if (!v)
		return 1;
	ucg_set = v->ucg != 0;
	return 0;
}

/* A bpf_wq in a value: it runs, and a pending one goes with the last user reference. */
struct wq_val {
	struct bpf_wq wq;
	__u64 ran;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, int);
	__type(value, struct wq_val);
} wqs SEC(".maps");

int wq_ran, wq_key;

static int wq_cb(void *map, int *key, void *value)
{
	struct wq_val *v = value;

	v->ran++;
	__sync_fetch_and_add(&wq_ran, 1);
	return 0;
}

SEC("syscall")
int start_wq(void *ctx)
{
	struct wq_val *v;
	int k = wq_key;

	v = bpf_map_lookup_elem(&wqs, &k);
	if (!v)
		return 1;
	if (bpf_wq_init(&v->wq, &wqs, 0))
		return 2;
	if (bpf_wq_set_callback(&v->wq, wq_cb, 0))
		return 3;
	if (bpf_wq_start(&v->wq, 0))
		return 4;
	return 0;
}

/* bpf_task_work in a value: runs when the task returns to user space; one still pending on a
 * sleeping task goes with the map's last user reference.
 */
struct tw_val {
	struct bpf_task_work tw;
	__u64 ran;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, int);
	__type(value, struct tw_val);
} tws SEC(".maps");

int tw_pid, tw_key, tw_ran;

static int tw_cb(struct bpf_map *map, void *key, void *value)
{
	struct tw_val *v = value;

	v->ran++;
	__sync_fetch_and_add(&tw_ran, 1);
	return 0;
}

SEC("syscall")
int schedule_tw(void *ctx)
{
	struct task_struct *task;
	struct tw_val *v;
	int k = tw_key, err;

	v = bpf_map_lookup_elem(&tws, &k);
	if (!v)
		return 1;
	task = bpf_task_from_pid(tw_pid);
	if (!task)
		return 2;
	err = bpf_task_work_schedule_resume(task, &v->tw, &tws, tw_cb);
	bpf_task_release(task);
	return err ? 3 : 0;
}

char LICENSE[] SEC("license") = "GPL";

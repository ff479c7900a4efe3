// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for the static inline kernel helpers that the Rust
 * side of rust_arraymap calls. bindgen does not generate static inline
 * functions, and re-writing them in Rust would let the module drift from
 * the kernel's semantics (special fields in copy_map_value(), the
 * Spectre v1 decision). Each wrapper is a single call.
 */
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/cacheflush.h>
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/cgroup.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/uaccess.h>

#include "inline_helpers.h"

bool rust_arraymap_bypass_spec_v1(void)
{
	return bpf_bypass_spec_v1(NULL);
}

u32 rust_arraymap_insn_buf_size(void)
{
	return INSN_BUF_SIZE;
}

bool rust_arraymap_record_has_field(const struct bpf_map *map, u32 type)
{
	return btf_record_has_field(map->record, type);
}

void rust_arraymap_copy_map_value(struct bpf_map *map, void *dst, void *src)
{
	copy_map_value(map, dst, src);
}

bool rust_arraymap_has_internal_structs(struct bpf_map *map)
{
	return bpf_map_has_internal_structs(map);
}

u32 rust_arraymap_btf_kind(const struct btf_type *t)
{
	return BTF_INFO_KIND(t->info);
}

vm_fault_t rust_arraymap_vmalloc_fault(struct vm_fault *vmf, void *addr)
{
	struct page *page = vmalloc_to_page(addr);

	if (!page)
		return VM_FAULT_SIGBUS;

	flush_dcache_folio(page_folio(page));
	get_page(page);
	vmf->page = page;
	return 0;
}

void rust_arraymap_copy_map_value_long(struct bpf_map *map, void *dst, void *src)
{
	copy_map_value_long(map, dst, src);
}

void rust_arraymap_check_and_init_map_value(struct bpf_map *map, void *dst)
{
	check_and_init_map_value(map, dst);
}

void __percpu *rust_arraymap_alloc_percpu(struct bpf_map *map, u32 size)
{
	return bpf_map_alloc_percpu(map, size, 8, GFP_USER | __GFP_NOWARN);
}

unsigned long rust_arraymap_my_cpu_offset(void)
{
#ifdef CONFIG_SMP
	return my_cpu_offset;
#else
	return 0;
#endif
}

unsigned int rust_arraymap_num_possible_cpus(void)
{
	return num_possible_cpus();
}

void rust_arraymap_cond_resched(void)
{
	cond_resched();
}

void *rust_arraymap_kmalloc_user(size_t size)
{
	return kmalloc(size, GFP_USER | __GFP_NOWARN);
}

void *rust_arraymap_kvmalloc_user(size_t size)
{
	return kvmalloc(size, GFP_USER | __GFP_NOWARN);
}

int rust_arraymap_put_user_u32(u32 __user *uaddr, u32 value)
{
	return put_user(value, uaddr);
}

void rust_arraymap_cgroup_get(struct cgroup *cgrp)
{
	cgroup_get(cgrp);
}

void rust_arraymap_cgroup_put(struct cgroup *cgrp)
{
	cgroup_put(cgrp);
}

void rust_arraymap_array_aux_init(struct bpf_array_aux *aux, work_func_t fn)
{
	INIT_LIST_HEAD(&aux->poke_progs);
	mutex_init(&aux->poke_mutex);
	INIT_WORK(&aux->work, fn);
}

struct workqueue_struct *rust_arraymap_alloc_workqueue(void)
{
	return alloc_workqueue("rust_arraymap", WQ_UNBOUND, 0);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers of static inline kernel helpers, called from Rust;
 * the Rust declarations are in rust/bpf/ffi.rs.
 */
#ifndef RUST_ARRAYMAP_INLINE_HELPERS_H
#define RUST_ARRAYMAP_INLINE_HELPERS_H

#include <linux/types.h>

struct bpf_map;
struct btf_type;
struct vm_fault;
struct cgroup;
struct bpf_array_aux;
struct work_struct;
struct workqueue_struct;

bool rust_arraymap_bypass_spec_v1(void);
/* INSN_BUF_SIZE: the length of the buffer the verifier passes to map_gen_lookup. */
u32 rust_arraymap_insn_buf_size(void);
bool rust_arraymap_record_has_field(const struct bpf_map *map, u32 type);
void rust_arraymap_copy_map_value(struct bpf_map *map, void *dst, void *src);
bool rust_arraymap_has_internal_structs(struct bpf_map *map);
u32 rust_arraymap_btf_kind(const struct btf_type *t);
/* Fault in the vmalloc page at @addr, as array_map_mmap_fault() does. */
unsigned int rust_arraymap_vmalloc_fault(struct vm_fault *vmf, void *addr);
void rust_arraymap_copy_map_value_long(struct bpf_map *map, void *dst, void *src);
void rust_arraymap_check_and_init_map_value(struct bpf_map *map, void *dst);

/* Per-CPU memory: bpf_map_alloc_percpu(map, size, 8, GFP_USER | __GFP_NOWARN). */
void __percpu *rust_arraymap_alloc_percpu(struct bpf_map *map, u32 size);
/* this_cpu_ptr(p) == p + my_cpu_offset (SHIFT_PERCPU_PTR); 0 on UP. */
unsigned long rust_arraymap_my_cpu_offset(void);
unsigned int rust_arraymap_num_possible_cpus(void);
void rust_arraymap_cond_resched(void);
/* kmalloc(size, GFP_USER | __GFP_NOWARN), freed with kfree(). */
void *rust_arraymap_kmalloc_user(size_t size);
/* kvmalloc(size, GFP_USER | __GFP_NOWARN), freed with kvfree(): one attempt, as kvmalloc() in
 * the generic batch functions makes it (the kernel crate's KVVec retries a failed krealloc()). */
void *rust_arraymap_kvmalloc_user(size_t size);
/* put_user(value, uaddr): 0, or -EFAULT if @uaddr is not a writable user address. */
int rust_arraymap_put_user_u32(u32 __user *uaddr, u32 value);

/* cgroup_get(cgrp): takes another reference on a cgroup. */
void rust_arraymap_cgroup_get(struct cgroup *cgrp);
/* cgroup_put(cgrp): drops a reference taken by cgroup_get_from_fd() or cgroup_get(). */
void rust_arraymap_cgroup_put(struct cgroup *cgrp);
/* The initialisation of prog_array_map_alloc(): poke list, mutex, work. */
void rust_arraymap_array_aux_init(struct bpf_array_aux *aux,
				  void (*fn)(struct work_struct *work));
/* alloc_workqueue("rust_arraymap", WQ_UNBOUND, 0), a macro. */
struct workqueue_struct *rust_arraymap_alloc_workqueue(void);

#endif

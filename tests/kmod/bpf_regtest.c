// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_regtest: the suite's check of bpf_map_type_register()'s rules, from a module's init.
 *
 * try_module_get() succeeds on a module that is still in its init (MODULE_STATE_COMING), and
 * when that init fails, do_init_module() frees the module whatever references its maps hold.
 * So no map may be created through the ops of a module before its init has returned. This
 * module's init registers ops for BPF_MAP_TYPE_ARRAY, creates an ARRAY through the syscall
 * path (kern_sys_bpf()) and unregisters: the map must have been served by the built-in ops.
 * Its init fails with -EPROTO if its own map_alloc was called.
 *
 * The verifier turns helper calls on a map into direct calls of its ops, as an s32 offset from
 * __bpf_call_base: registration must refuse ops that such an offset cannot reach (-ERANGE).
 * Init registers ops whose map_lookup_elem is a vmalloc address, terabytes away from the
 * kernel text (never called), and fails with -EPROTO unless they are refused.
 *
 * So "insmod bpf_regtest.ko" succeeding is the test (rust_arraymap must not be loaded: ARRAY
 * would be taken, -EBUSY).
 *
 * With fail_init_ms=N, init instead registers its ops, waits N ms while user space creates
 * ARRAY maps, unregisters and fails: do_init_module() then frees the module, which no map may
 * reference. The init fails with -EAGAIN, or with -EPROTO if its map_alloc was called.
 *
 * With hold_type=T (an fd array type), init only registers ops for map type T, and the exit
 * unregisters them:
 * a module that registers T meanwhile must fail its init (-EBUSY) and leave nothing registered.
 */
#include <linux/bpf.h>
#include <linux/delay.h>
#include <linux/fdtable.h>
#include <linux/module.h>
#include <linux/vmalloc.h>

static unsigned int fail_init_ms;
module_param(fail_init_ms, uint, 0);
MODULE_PARM_DESC(fail_init_ms, "register, wait this long, unregister and fail the init");

static unsigned int hold_type;
module_param(hold_type, uint, 0);
MODULE_PARM_DESC(hold_type, "only register ops for this map type, until the module goes");

/* tools/lib/bpf/skel_internal.h declares it for the kernel's light skeletons. */
int kern_sys_bpf(int cmd, union bpf_attr *attr, unsigned int size);

static atomic_t regtest_allocs = ATOMIC_INIT(0);

static struct bpf_map *regtest_alloc(union bpf_attr *attr)
{
	atomic_inc(&regtest_allocs);
	return ERR_PTR(-EOPNOTSUPP);
}

/* Never called: regtest_alloc() creates no map. */
static void regtest_free(struct bpf_map *map)
{
}

static u64 regtest_mem_usage(const struct bpf_map *map)
{
	return 0;
}

static const struct bpf_map_ops regtest_ops = {
	.map_alloc = regtest_alloc,
	.map_free = regtest_free,
	.map_mem_usage = regtest_mem_usage,
	.owner = THIS_MODULE,
};

/* Never called either: only what registering an fd array type requires (hold_type). */
static int regtest_fd_lookup(struct bpf_map *map, void *key, u32 *value)
{
	return -EOPNOTSUPP;
}

static int regtest_fd_update(struct bpf_map *map, struct file *map_file, void *key,
			     void *value, u64 map_flags)
{
	return -EOPNOTSUPP;
}

static const struct bpf_map_ops regtest_fd_ops = {
	.map_alloc = regtest_alloc,
	.map_free = regtest_free,
	.map_mem_usage = regtest_mem_usage,
	.map_fd_lookup_elem = regtest_fd_lookup,
	.map_fd_update_elem = regtest_fd_update,
	.owner = THIS_MODULE,
};

/* regtest_ops with a map_lookup_elem out of the verifier's reach (bpf_regtest_far()). */
static struct bpf_map_ops regtest_far_ops;

static int bpf_regtest_far(void)
{
	void *far = vmalloc(PAGE_SIZE);
	int err;

	if (!far)
		return -ENOMEM;
	regtest_far_ops = regtest_ops;
	regtest_far_ops.map_lookup_elem = (void *(*)(struct bpf_map *, void *))far;
	err = bpf_map_type_register(BPF_MAP_TYPE_ARRAY, &regtest_far_ops);
	if (!err)
		bpf_map_type_unregister(BPF_MAP_TYPE_ARRAY, &regtest_far_ops);
	vfree(far);
	if (err != -ERANGE) {
		pr_err("bpf_regtest: ops out of the verifier's call range: register returned %d\n",
		       err);
		return -EPROTO;
	}
	return 0;
}

/* Registers ops for ARRAY and creates an ARRAY: the built-in ops must have served it. */
static int bpf_regtest_coming(void)
{
	union bpf_attr attr = {
		.map_type = BPF_MAP_TYPE_ARRAY,
		.key_size = 4,
		.value_size = 8,
		.max_entries = 1,
	};
	int err, fd;

	err = bpf_map_type_register(BPF_MAP_TYPE_ARRAY, &regtest_ops);
	if (err) {
		pr_err("bpf_regtest: bpf_map_type_register: %d\n", err);
		return err;
	}
	fd = kern_sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
	err = bpf_map_type_unregister(BPF_MAP_TYPE_ARRAY, &regtest_ops);
	if (fd >= 0)
		close_fd(fd);
	if (err) {
		pr_err("bpf_regtest: bpf_map_type_unregister of the registered ops: %d\n", err);
		return -EPROTO;
	}
	if (atomic_read(&regtest_allocs)) {
		pr_err("bpf_regtest: a map was created through the ops of a module in its init\n");
		return -EPROTO;
	}
	if (fd < 0) {
		pr_err("bpf_regtest: the built-in ARRAY was not created: %d\n", fd);
		return fd;
	}
	return 0;
}

/* An init that fails after registering, while user space creates maps of the type. */
static int bpf_regtest_failing_init(void)
{
	int err = bpf_map_type_register(BPF_MAP_TYPE_ARRAY, &regtest_ops);

	if (err) {
		pr_err("bpf_regtest: bpf_map_type_register: %d\n", err);
		return err;
	}
	msleep(fail_init_ms);
	err = bpf_map_type_unregister(BPF_MAP_TYPE_ARRAY, &regtest_ops);
	if (err || atomic_read(&regtest_allocs)) {
		pr_err("bpf_regtest: failing init: unregister %d, %d maps created through its ops\n",
		       err, atomic_read(&regtest_allocs));
		return -EPROTO;
	}
	return -EAGAIN;
}

/* Both checks, each reporting its own failure. */
static int __init bpf_regtest_init(void)
{
	int far, coming;

	if (fail_init_ms)
		return bpf_regtest_failing_init();
	if (hold_type)
		return bpf_map_type_register(hold_type, &regtest_fd_ops);
	far = bpf_regtest_far();
	coming = bpf_regtest_coming();

	if (far || coming)
		return far ?: coming;
	pr_info("bpf_regtest: far ops refused; during init, the built-in ops served the new map\n");
	return 0;
}

static void __exit bpf_regtest_exit(void)
{
	if (hold_type)
		WARN_ON(bpf_map_type_unregister(hold_type, &regtest_fd_ops));
}

module_init(bpf_regtest_init);
module_exit(bpf_regtest_exit);
MODULE_IMPORT_NS("BPF_INTERNAL");
MODULE_DESCRIPTION("rust_arraymap suite: the rules of map type registration");
/* A test-only module: loading it taints the kernel with TAINT_TEST, as KUnit does. */
MODULE_INFO(test, "Y");
MODULE_LICENSE("GPL");

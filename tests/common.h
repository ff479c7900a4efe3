/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the suite's probes share: the failure counter and CHECK(), the module's reference count
 * and its insertion and removal, raw bpf() calls, the suite's BTF, errno names.
 */
#ifndef AMTEST_COMMON_H
#define AMTEST_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define MODULE_NAME "rust_arraymap"

static int failures __attribute__((unused));

/* The module's reference count, or -1 when it is not loaded: each map it serves holds one. */
static inline int module_refs(void)
{
	FILE *f = fopen("/sys/module/rust_arraymap/refcnt", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* finit_module() of the module file @ko: 0 or -errno (-EEXIST when it is loaded). */
static inline int module_insert_ko(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * delete_module() without waiting: 0, -EWOULDBLOCK while maps hold the module, -ENOENT when it
 * is not loaded.
 */
static inline int module_try_remove(void)
{
	return syscall(__NR_delete_module, MODULE_NAME, O_NONBLOCK) ? -errno : 0;
}

/*
 * Removes the module once the maps it served are freed (after an RCU grace period and a work
 * item), trying for 30 s: 0, or -errno of the last try (-ENOENT when it is not loaded).
 */
static inline int module_remove_wait(void)
{
	int i, ret = -EWOULDBLOCK;

	for (i = 0; i < 1500 && ret == -EWOULDBLOCK; i++) {
		ret = module_try_remove();
		if (ret == -EWOULDBLOCK)
			usleep(20000);
	}
	return ret;
}

/* A raw bpf() call, without libbpf in between: @attr as given, the result or -errno. */
static inline int sys_bpf(int cmd, union bpf_attr *attr)
{
	int ret = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

	return ret < 0 ? -errno : ret;
}

/* The value types of the suite's BTF (test_btf_load), by type id. */
enum { T_INT = 1, T_LL, T_LOCK, T_TIMER, T_VAL, T_LOCKVAL, T_LLARRAY, T_BIGLOCKVAL };

/* The 8-byte words of "biglockval" after its lock: a value copied over many instructions. */
#define BIGLOCKVAL_WORDS 511

/*
 * Loads the suite's BTF: int and long long, bpf_spin_lock, bpf_timer, "val" { lock; int x;
 * timer } (24 bytes) and "lockval" { long long x; lock; int y; long long z, w, v } (40 bytes, the
 * lock inside the value), and "biglockval" { lock; int pad; long long w[BIGLOCKVAL_WORDS] } (4096
 * bytes). Its fd, or -1.
 */
static inline int test_btf_load(void)
{
	struct btf *btf = btf__new_empty();
	int err, fd = -1;

	if (!btf)
		return -1;
	err = btf__add_int(btf, "int", 4, BTF_INT_SIGNED) != T_INT ||
	      btf__add_int(btf, "long long", 8, BTF_INT_SIGNED) != T_LL ||
	      btf__add_struct(btf, "bpf_spin_lock", 4) != T_LOCK ||
	      btf__add_field(btf, "val", T_INT, 0, 0) ||
	      btf__add_struct(btf, "bpf_timer", 16) != T_TIMER ||
	      btf__add_field(btf, "__opaque0", T_LL, 0, 0) ||
	      btf__add_field(btf, "__opaque1", T_LL, 64, 0) ||
	      btf__add_struct(btf, "val", 24) != T_VAL ||
	      btf__add_field(btf, "lock", T_LOCK, 0, 0) ||
	      btf__add_field(btf, "x", T_INT, 32, 0) ||
	      btf__add_field(btf, "timer", T_TIMER, 64, 0) ||
	      btf__add_struct(btf, "lockval", 40) != T_LOCKVAL ||
	      btf__add_field(btf, "x", T_LL, 0, 0) ||
	      btf__add_field(btf, "lock", T_LOCK, 64, 0) ||
	      btf__add_field(btf, "y", T_INT, 96, 0) ||
	      btf__add_field(btf, "z", T_LL, 128, 0) ||
	      btf__add_field(btf, "w", T_LL, 192, 0) ||
	      btf__add_field(btf, "v", T_LL, 256, 0) ||
	      btf__add_array(btf, T_INT, T_LL, BIGLOCKVAL_WORDS) != T_LLARRAY ||
	      btf__add_struct(btf, "biglockval", 8 + 8 * BIGLOCKVAL_WORDS) != T_BIGLOCKVAL ||
	      btf__add_field(btf, "lock", T_LOCK, 0, 0) ||
	      btf__add_field(btf, "pad", T_INT, 32, 0) ||
	      btf__add_field(btf, "w", T_LLARRAY, 64, 0) ||
	      btf__load_into_kernel(btf);
	if (!err)
		fd = dup(btf__fd(btf));
	btf__free(btf);
	return fd;
}

/*
 * BPF_MAP_CREATE of a map with a 4-byte key; with @btf_value, its value is that type of the
 * BTF @btf_fd (the key its int). The fd or -errno.
 */
static inline int create_map(enum bpf_map_type type, __u32 value_size, __u32 entries,
			     __u32 flags, int inner, int btf_fd, __u32 btf_value)
{
	union bpf_attr a = {
		.map_type = type,
		.key_size = 4,
		.value_size = value_size,
		.max_entries = entries,
		.map_flags = flags,
		.inner_map_fd = inner,
	};

	if (btf_value) {
		a.btf_fd = btf_fd;
		a.btf_key_type_id = T_INT;
		a.btf_value_type_id = btf_value;
	}
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/*
 * BPF_PROG_LOAD of @cnt raw instructions under the GPL, with @prog_flags, and the verifier's
 * log (level 1) in @log if it is not NULL.
 */
static inline int prog_load_log(enum bpf_prog_type type, const struct bpf_insn *insns,
				__u32 cnt, enum bpf_attach_type attach, __u32 btf_id,
				__u32 prog_flags, char *log, __u32 log_size)
{
	union bpf_attr a = {
		.prog_type = type,
		.insns = (unsigned long)insns,
		.insn_cnt = cnt,
		.license = (unsigned long)"GPL",
		.expected_attach_type = attach,
		.attach_btf_id = btf_id,
		.prog_flags = prog_flags,
		.log_buf = (unsigned long)log,
		.log_size = log ? log_size : 0,
		.log_level = log ? 1 : 0,
	};

	return sys_bpf(BPF_PROG_LOAD, &a);
}

/* BPF_PROG_LOAD of @cnt raw instructions under the GPL. */
static inline int prog_load_insns(enum bpf_prog_type type, const struct bpf_insn *insns,
				  __u32 cnt, enum bpf_attach_type attach, __u32 btf_id)
{
	return prog_load_log(type, insns, cnt, attach, btf_id, 0, NULL, 0);
}

/* The id of the program @prog_fd, or 0. */
static inline __u32 prog_id(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_prog_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.id;
}

/* The id of the map @map_fd, or 0. */
static inline __u32 map_id(int map_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_map_get_info_by_fd(map_fd, &info, &len) ? 0 : info.id;
}

/* A program of @type that returns @ret: r0 = ret; exit. */
static inline int prog_load_ret(int ret, enum bpf_prog_type type, enum bpf_attach_type attach,
				__u32 btf_id)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return prog_load_insns(type, insns, 2, attach, btf_id);
}

/*
 * A socket filter doing bpf_tail_call(ctx, @prog_array, 0) and returning 1 if that falls
 * through: a direct tail call, tracked by the array.
 */
static inline int load_tail_caller(int prog_array)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = prog_array },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return prog_load_insns(BPF_PROG_TYPE_SOCKET_FILTER, insns, 6, 0, 0);
}

/*
 * A software perf event @config of @pid on @cpu (perf_event_open's meanings), or -1. A
 * BPF_OUTPUT event samples every record raw, as bpf_perf_event_output() needs.
 */
static inline int perf_open_sw(__u64 config, int pid, int cpu)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = config,
	};

	if (config == PERF_COUNT_SW_BPF_OUTPUT) {
		attr.sample_type = PERF_SAMPLE_RAW;
		attr.sample_period = 1;
		attr.wakeup_events = 1;
	}
	return syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* A software CPU-clock perf event of @pid on @cpu. */
static inline int perf_open_clock(int pid, int cpu)
{
	return perf_open_sw(PERF_COUNT_SW_CPU_CLOCK, pid, cpu);
}

/*
 * Whether @cpu is in /sys/devices/system/cpu/online ("0-2", "0,2", ...): a possible CPU that is
 * not (make test's second VM shape has some) has per-CPU copies but runs nothing.
 */
static inline int cpu_online(int cpu)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	int lo, hi, n, online = 0;
	char sep;

	if (!f)
		return cpu == 0;
	while ((n = fscanf(f, "%d%c", &lo, &sep)) >= 1) {
		hi = lo;
		if (n == 2 && sep == '-' && fscanf(f, "%d%c", &hi, &sep) < 1)
			break;
		if (cpu >= lo && cpu <= hi)
			online = 1;
		if (n == 1 || sep != ',')
			break;
	}
	fclose(f);
	return online;
}

/* The online CPUs among 0..@n-1 into @cpus (room for @n), in order; their number. */
static inline int online_cpus(int *cpus, int n)
{
	int cpu, found = 0;

	for (cpu = 0; cpu < n; cpu++)
		if (cpu_online(cpu) == 1)
			cpus[found++] = cpu;
	return found;
}

/* Binds the calling thread to @cpu alone: 0 or -errno. */
static inline int bind_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
			failures++;                                        \
		}                                                          \
	} while (0)

/*
 * "ok" or the errno's name; the last four results of a thread stay valid (one printf may show
 * several).
 */
static inline const char *res(int ret)
{
	static __thread char bufs[4][64];
	static __thread int n;
	char *buf = bufs[n++ % 4];

	if (ret >= 0)
		return "ok";
	if (strerrorname_np(-ret))
		snprintf(buf, sizeof(bufs[0]), "%s", strerrorname_np(-ret));
	else
		snprintf(buf, sizeof(bufs[0]), "errno %d", -ret);
	return buf;
}

/*
 * The first word of the "@key:" line of @fd's fdinfo, into @val (of @len bytes): 1, 0 without
 * such a line, or -errno.
 */
static inline int fdinfo_value(int fd, const char *key, char *val, size_t len)
{
	char path[64], line[256], fmt[64];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(fmt, sizeof(fmt), "%s: %%%zus", key, len - 1);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, fmt, val) == 1;
	fclose(f);
	return found;
}

/*
 * The module that serves the map @map_fd, from the "ops_owner:" line of its fdinfo (patch 11),
 * into @owner (of @len bytes): 0, "-" without one (a built-in map), or -errno.
 */
static inline int map_ops_owner(int map_fd, char *owner, size_t len)
{
	int ret = fdinfo_value(map_fd, "ops_owner", owner, len);

	if (ret <= 0)
		snprintf(owner, len, "-");
	return ret < 0 ? ret : 0;
}

/* Whether the module serves the map @map_fd: fdinfo's ops_owner names it. */
static inline int served_by_module(int map_fd)
{
	char owner[64];

	return !map_ops_owner(map_fd, owner, sizeof(owner)) && !strcmp(owner, MODULE_NAME);
}

/*
 * Names the map @map_fd as one under test, on stderr: "map-served-by: @what OWNER", OWNER the
 * module that serves it (fdinfo's ops_owner) or "-" (built-in code). compare (tests/run-suite.sh)
 * requires "-" of every such line in the C run and "rust_arraymap" in the Rust run: the proof
 * that the module served this very map, not just some map of its type.
 */
static inline void map_served_by(const char *what, int map_fd)
{
	char owner[64];

	map_ops_owner(map_fd, owner, sizeof(owner));
	fprintf(stderr, "map-served-by: %s %s\n", what, owner);
}

/*
 * map_served_by() for each array map that the BPF object @obj declares itself (not libbpf's
 * global-data maps, which every object has: they are tested only as far as a probe reads them).
 */
static inline void obj_maps_served_by(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		switch (bpf_map__type(m)) {
		case BPF_MAP_TYPE_ARRAY:
		case BPF_MAP_TYPE_PERCPU_ARRAY:
		case BPF_MAP_TYPE_PROG_ARRAY:
		case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		case BPF_MAP_TYPE_CGROUP_ARRAY:
		case BPF_MAP_TYPE_ARRAY_OF_MAPS:
			if (!bpf_map__is_internal(m) && bpf_map__fd(m) >= 0)
				map_served_by(bpf_map__name(m), bpf_map__fd(m));
			break;
		default:
			break;
		}
	}
}

/*
 * An iter/bpf_map_elem iterator of @prog over the map @map_fd: the iterator's fd, with the
 * link already dropped (the iterator holds its own references), or -1.
 */
static inline int open_map_iter(struct bpf_program *prog, int map_fd)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo = {};
	struct bpf_link *link;
	int iter_fd;

	linfo.map.map_fd = map_fd;
	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	link = bpf_program__attach_iter(prog, &opts);
	if (!link) {
		perror("attach_iter");
		return -1;
	}
	iter_fd = bpf_iter_create(bpf_link__fd(link));
	if (iter_fd < 0)
		perror("bpf_iter_create");
	bpf_link__destroy(link);
	return iter_fd;
}

/* Prints what the iterator @iter_fd produces (up to 4 KiB) and closes it; 0 on success. */
static inline int print_iter(int iter_fd)
{
	char buf[4096];
	int n, len = 0;

	while ((n = read(iter_fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	printf("%s", buf);
	close(iter_fd);
	return n < 0;
}

#endif

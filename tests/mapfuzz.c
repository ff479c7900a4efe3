// SPDX-License-Identifier: GPL-2.0
/*
 * mapfuzz: a differential fuzzer of the array maps, C against Rust in one boot.
 *
 *   mapfuzz [-s SEED] [-n OPS] [-m MAPS] [-E OPS_PER_EPOCH] [-k KO]
 *   mapfuzz -s SEED -e EPOCH -o I,J,...    replay ops I, J, ... of one epoch, printing each
 *
 * The run is a series of epochs. An epoch draws MAPS creation attributes (all six types,
 * sizes, flags, BTF values, inner maps; some invalid) and creates each map twice: first with
 * rust_arraymap unloaded, so that the kernel's C code serves it, then, after insmod, by the
 * module. Both results (fd or errno, and bpf_map_info) must match. Then it runs OPS_PER_EPOCH
 * operations, each applied to the C map and to its Rust twin with the same arguments: lookup,
 * update, delete, get_next_key, lookup_and_delete with random keys and flags (BPF_F_LOCK,
 * BPF_NOEXIST/EXIST, BPF_F_CPU/ALL_CPUS, garbage); the four batch commands with random counts,
 * cursors and flags; freeze; map info (with the map's hash); reads and writes through mmap;
 * BPF-side lookup, update, delete, for_each and lookup_percpu_elem through BPF_PROG_TEST_RUN,
 * each on an online CPU drawn for its block of RUN_CPU_BLOCK ops (a per-CPU map's BPF side
 * reads and writes the running CPU's copy; both sides of an op run on the same CPU; a replay
 * needs the same online CPUs);
 * fd-array stores of programs, perf events, cgroups and maps, valid and not. Some maps are made
 * by an unprivileged creator, and some syscall ops go through the map opened again by id
 * read-only or write-only; such an fd is closed and opened again mid-sequence (its release
 * clears the perf events stored through it). A map with a program is also read through a BPF
 * iterator (iter/bpf_map_elem), all of it, and any map through its fdinfo (all but the map's id
 * and ops owner: memlock is the map's mem_usage). Every return value and every byte the kernel
 * hands back must match.
 * Then everything is closed and the module is removed, which must succeed.
 *
 * Op I of epoch E is drawn from its own generator, seeded from (SEED, E, I): any subset of an
 * epoch's ops replays without the others. At a divergence the fuzzer prints it, shrinks the
 * ops before it to a short list that still diverges (re-running the epoch from fresh maps) and
 * prints the command that replays it. The last line: "N ops, M divergences (seed S)".
 *
 * Objects that fd arrays store (programs, perf events, cgroups, inner maps) are shared by the
 * two sides, so that the ids a lookup returns are the same. Needs root, the module's path
 * (-k or $KO) and a kernel on which rust_arraymap may be inserted and removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "fuzz.skel.h"

#define MAX_MAPS 64
#define MAX_CPUS 64
#define VMAX 4096		/* largest value the BPF side handles (fuzz.bpf.c) */
#define MEM_CAP (2u << 20)	/* bytes of values per valid map, at most */
#define BATCH_MAX 64
#define SLACK 16		/* bytes past the expected output, compared too */
#define OUT_MAX (8u << 20)
#define SHRINK_RUNS 32
#define COVERAGE_OPS 100000	/* from this many ops on, every kind must have succeeded */
#define FLAG_COVERAGE_OPS 1000000 /* from this many on, every (type, command, flags) cell run */
#define VALID_FLAGS 32		/* the combinations of BPF_NOEXIST ... BPF_F_ALL_CPUS */
#define TYPE_MAX (BPF_MAP_TYPE_ARRAY_OF_MAPS + 1)
#define CGROUP_SUB "/sys/fs/cgroup/mapfuzz"
#define NO_NODE 0xffffffffu	/* NUMA_NO_NODE */
#define RUN_CPU_BLOCK 256	/* ops sharing the CPU the BPF side runs on (a migration is slow) */

enum kind {
	K_LOOKUP, K_UPDATE, K_DELETE, K_GET_NEXT, K_LOOKUP_AND_DELETE,
	K_B_LOOKUP, K_B_UPDATE, K_B_DELETE, K_B_LOOKUP_AND_DELETE,
	K_FREEZE, K_INFO, K_MM_READ, K_MM_WRITE, K_REOPEN, K_ITER, K_FDINFO,
	K_P_LOOKUP, K_P_UPDATE, K_P_DELETE, K_P_FOR_EACH, K_P_LOOKUP_PERCPU,
	K_NR
};

static const char *const kind_name[K_NR] = {
	"lookup", "update", "delete", "get_next_key", "lookup_and_delete",
	"lookup_batch", "update_batch", "delete_batch", "lookup_and_delete_batch",
	"freeze", "info", "mmap read", "mmap write", "reopen", "iter", "fdinfo",
	"bpf lookup", "bpf update", "bpf delete", "bpf for_each", "bpf lookup_percpu_elem",
};

/* Out of 10000: how often each kind is drawn (a pair without mmap or program looks up). */
static const int kind_weight[K_NR] = {
	2150, 2200, 300, 700, 200,
	500, 400, 200, 200,
	1, 99, 400, 400, 100, 30, 20,
	800, 800, 100, 300, 200,
};

/* Must match struct args of fuzz.bpf.c. */
struct args {
	__u32 op;
	__u32 key;
	__u64 flags;
	__u32 cpu;
	__u32 vsize;
	__u32 stop;
	__u32 pad;
	__s64 ret;
	__u64 count;
	__u64 sum;
};

/* The objects fd arrays store and ARRAY_OF_MAPS takes as templates, shared by both sides. */
enum {
	P_PROG_A, P_PROG_B, P_PROG_XDP, P_PERF_CPU0, P_PERF_TASK, P_CGROUP_ROOT, P_CGROUP_SUB,
	P_INNER_A, P_INNER_B, P_INNER_V16, P_HASH, P_DEVNULL, P_BADFD, P_MINUS1,
	P_INNER_RUST,		/* made by the module, each epoch after insmod: not a template */
	P_NR
};

static const char *const pool_name[P_NR] = {
	"prog A", "prog B", "xdp prog", "perf cpu0", "perf task", "cgroup /", "cgroup sub",
	"inner A", "inner B", "inner v16", "hash", "/dev/null", "bad fd", "fd -1", "inner rust",
};

static int pool[P_NR];

/* Sizes of the BTF value types (T_* of common.h's test_btf_load), by type id. */
static const __u32 btf_size[] = { 0, 4, 8, 4, 16, 24, 40 };

struct spec {
	__u32 type, key_size, value_size, max_entries, flags, numa_node, btf_value;
	__u64 map_extra;
	int inner;		/* pool index of inner_map_fd, or -1 */
	bool unpriv;		/* created without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, CAP_NET_ADMIN */
};

/* The fds an op goes through: the creator's, or one opened read-only or write-only by id. */
enum view { V_RW, V_RDONLY, V_WRONLY, V_NR };

static const char *const view_name[V_NR] = { "", " via rdonly fd", " via wronly fd" };

struct side {
	int fd;			/* the map, or -errno */
	int view[V_NR];		/* fds of the map by access ([V_RW] is fd), or -errno */
	void *mm;		/* its mmap, if any */
	int mm_ret;
	bool mm_writable;
	struct fuzz *skel;
	int prog_ret;
};

struct pair {
	struct spec s;
	struct side side[2];	/* 0: C, 1: Rust */
	bool valid, percpu, fd_array, has_prog;
	size_t stride;		/* round_up(value_size, 8) */
	size_t uvs;		/* value bytes user space exchanges without BPF_F_CPU/ALL_CPUS */
	size_t mm_len;		/* value bytes visible through mmap */
};

/* One operation, as drawn. */
struct op {
	enum kind kind;
	int pair;
	__u32 key, in_batch, count, off, len, cpu, stop;
	int run_cpu;		/* the online CPU BPF-side ops run on */
	bool key_null, in_null, hash;
	__u64 flags, elem_flags;
	__u64 seed;		/* of the bytes it writes */
	int fdsel[BATCH_MAX];	/* fd arrays: the pool objects it stores */
	enum view view;		/* the fd it goes through */
};

static struct {
	__u64 seed;
	long ops_per_epoch;
	int maps;
	const char *ko;
	bool verbose;
	int ncpus;
	int btf;
	int online[MAX_CPUS], nonline;	/* the online CPUs */
} cfg = { .ops_per_epoch = 50000, .maps = 16 };

static int cur_cpu = -1;	/* the CPU the fuzzer is bound to */

/* The online CPUs, "0,2": a replay draws its BPF-side ops' CPUs from the same list. */
static const char *online_str(void)
{
	static char b[4 * MAX_CPUS];
	size_t n = 0;
	int i;

	b[0] = 0;
	for (i = 0; i < cfg.nonline; i++)
		n += snprintf(b + n, sizeof(b) - n, "%s%d", i ? "," : "", cfg.online[i]);
	return b;
}

static struct pair pairs[MAX_MAPS];
static int valid_idx[MAX_MAPS], nvalid;
static unsigned char out[2][OUT_MAX];
static size_t out_len[2];
static long out_ret[2];
static unsigned char in_vals[OUT_MAX];

static struct {
	long ops, per_kind[K_NR], per_kind_ok[K_NR], created[2], maps_valid, progs, mmaps, epochs;
	long insmods, rmmods, run_errors, unpriv_created, per_view[V_NR], per_view_ok[V_NR];
	/* Ops per (map type, command, combination of valid flags): the flag coverage cells. */
	long flag_cells[TYPE_MAX][K_NR][VALID_FLAGS];
	long bpf_ok_on[MAX_CPUS];	/* BPF-side ops that succeeded on each CPU */
} stats;

/* The commands that take flags (the batches: elem_flags), whose cells must all be run. */
static const enum kind flag_kinds[] = {
	K_LOOKUP, K_UPDATE, K_LOOKUP_AND_DELETE, K_B_LOOKUP, K_B_UPDATE, K_B_DELETE,
	K_B_LOOKUP_AND_DELETE,
};

/* --- random numbers: splitmix64 ----------------------------------------------------------- */

struct rng {
	__u64 s;
};

static __u64 next(struct rng *r)
{
	__u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u32 below(struct rng *r, __u32 n)
{
	return n ? next(r) % n : 0;
}

static bool chance(struct rng *r, int percent)
{
	return below(r, 100) < (__u32)percent;
}

static struct rng rng_for(__u64 a, __u64 b, __u64 c)
{
	struct rng r = { a };

	r.s = next(&r) ^ b;
	r.s = next(&r) ^ c;
	next(&r);
	return r;
}

static void fill(__u64 seed, void *buf, size_t len)
{
	struct rng r = { seed };
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		__u64 v = next(&r);

		memcpy(p + i, &v, 8);
	}
	if (i < len) {
		__u64 v = next(&r);

		memcpy(p + i, &v, len - i);
	}
}

/* --- module control ------------------------------------------------------------------------ */

static int module_insert(void)
{
	int ret = module_insert_ko(cfg.ko);

	if (ret) {
		fprintf(stderr, "insmod %s: %s\n", cfg.ko, res(ret));
		return -1;
	}
	stats.insmods++;
	return 0;
}

/* Removes the module once the maps it served are freed (after RCU and a work item). */
static int module_remove(void)
{
	int ret;

	if (module_refs() < 0)
		return 0;
	ret = module_remove_wait();
	if (ret) {
		fprintf(stderr, "rmmod %s: %s (refcnt %d)\n", MODULE_NAME, res(ret), module_refs());
		return -1;
	}
	stats.rmmods++;
	return 0;
}

/* --- the shared objects -------------------------------------------------------------------- */

/*
 * Drops (@on false) or restores the effective capabilities that make a map creator privileged
 * for the array maps: CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (bpf_capable(), and
 * bpf_bypass_spec_v1(), which rounds max_entries up to a power of two and masks every index
 * when it is false) and CAP_NET_ADMIN. The permitted set keeps them, so they come back.
 */
static int creator_caps(bool on)
{
	static const int caps[] = { CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, CAP_NET_ADMIN };
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	size_t i;

	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		__u32 bit = 1u << (caps[i] % 32);

		if (on)
			d[caps[i] / 32].effective |= bit & d[caps[i] / 32].permitted;
		else
			d[caps[i] / 32].effective &= ~bit;
	}
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static int spec_create(const struct spec *s, const char *name)
{
	union bpf_attr a = {
		.map_type = s->type,
		.key_size = s->key_size,
		.value_size = s->value_size,
		.max_entries = s->max_entries,
		.map_flags = s->flags,
		.numa_node = s->numa_node,
		.map_extra = s->map_extra,
		.inner_map_fd = s->inner >= 0 ? pool[s->inner] : 0,
	};

	snprintf(a.map_name, sizeof(a.map_name), "%s", name);
	int fd, err;

	if (s->btf_value) {
		a.btf_fd = cfg.btf;
		a.btf_key_type_id = T_INT;
		a.btf_value_type_id = s->btf_value;
	}
	if (!s->unpriv)
		return sys_bpf(BPF_MAP_CREATE, &a);
	err = creator_caps(false);
	if (err) {
		fprintf(stderr, "dropping the creator's capabilities: %s\n", strerror(-err));
		exit(1);
	}
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	err = creator_caps(true);
	if (err) {
		fprintf(stderr, "restoring the capabilities: %s\n", strerror(-err));
		exit(1);
	}
	return fd;
}

static int small_array(enum bpf_map_type type, __u32 value_size)
{
	const struct spec s = { .type = type, .key_size = 4, .value_size = value_size,
				.max_entries = 4, .inner = -1 };

	return spec_create(&s, "fz_pool");
}

static int pool_setup(void)
{
	int i;

	cfg.btf = test_btf_load();
	if (cfg.btf < 0)
		return fprintf(stderr, "BTF load failed\n"), -1;
	if (mkdir(CGROUP_SUB, 0755) && errno != EEXIST)
		return fprintf(stderr, "mkdir %s: %m\n", CGROUP_SUB), -1;
	pool[P_PROG_A] = prog_load_ret(0, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0);
	pool[P_PROG_B] = prog_load_ret(0, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0);
	pool[P_PROG_XDP] = prog_load_ret(0, BPF_PROG_TYPE_XDP, 0, 0);
	pool[P_PERF_CPU0] = perf_open_clock(-1, 0);
	pool[P_PERF_TASK] = perf_open_clock(0, -1);
	pool[P_CGROUP_ROOT] = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pool[P_CGROUP_SUB] = open(CGROUP_SUB, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pool[P_INNER_A] = small_array(BPF_MAP_TYPE_ARRAY, 8);
	pool[P_INNER_B] = small_array(BPF_MAP_TYPE_ARRAY, 8);
	pool[P_INNER_V16] = small_array(BPF_MAP_TYPE_ARRAY, 16);
	pool[P_HASH] = small_array(BPF_MAP_TYPE_HASH, 8);
	pool[P_DEVNULL] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pool[P_BADFD] = 9999;
	pool[P_MINUS1] = -1;
	pool[P_INNER_RUST] = -1;
	for (i = 0; i < P_BADFD; i++)
		if (pool[i] < 0)
			return fprintf(stderr, "pool object %s: %s\n", pool_name[i], res(pool[i])), -1;
	return 0;
}

/* --- drawing maps and operations ---------------------------------------------------------- */

/* The value-holding types more often: they have more to compare. */
static const __u32 map_types[] = {
	BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY,
	BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
	BPF_MAP_TYPE_CGROUP_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS,
};

static const char *const type_name[] = {
	[BPF_MAP_TYPE_ARRAY] = "array", [BPF_MAP_TYPE_PERCPU_ARRAY] = "percpu_array",
	[BPF_MAP_TYPE_PROG_ARRAY] = "prog_array", [BPF_MAP_TYPE_PERF_EVENT_ARRAY] = "perf_event_array",
	[BPF_MAP_TYPE_CGROUP_ARRAY] = "cgroup_array", [BPF_MAP_TYPE_ARRAY_OF_MAPS] = "array_of_maps",
};

static const __u32 create_flags[] = {
	BPF_F_MMAPABLE, BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG,
	BPF_F_INNER_MAP, BPF_F_PRESERVE_ELEMS, BPF_F_NUMA_NODE, BPF_F_NO_PREALLOC, BPF_F_ZERO_SEED,
};

static bool is_fd_array(__u32 type)
{
	return type != BPF_MAP_TYPE_ARRAY && type != BPF_MAP_TYPE_PERCPU_ARRAY;
}

static void draw_spec(struct rng *r, struct spec *s)
{
	static const int inners[] = { P_INNER_A, P_INNER_A, P_INNER_A, P_INNER_B, P_INNER_V16,
				      P_HASH, P_DEVNULL, P_BADFD, P_PROG_A };
	size_t per_entry;

	memset(s, 0, sizeof(*s));
	s->inner = -1;
	s->type = map_types[below(r, sizeof(map_types) / sizeof(map_types[0]))];
	s->key_size = chance(r, 95) ? 4 : (__u32[]){ 0, 1, 2, 8 }[below(r, 4)];
	if (is_fd_array(s->type) && chance(r, 92)) {
		s->value_size = 4;
	} else {
		switch (below(r, 20)) {
		case 0 ... 7: s->value_size = 1 + below(r, 16); break;
		case 8 ... 11: s->value_size = 8; break;
		case 12 ... 14: s->value_size = 17 + below(r, 240); break;
		case 15 ... 17: s->value_size = 257 + below(r, VMAX - 256); break;
		case 18: s->value_size = (__u32[]){ 0, 32768, 32769, 65536 }[below(r, 4)]; break;
		default: s->value_size = VMAX + below(r, 8192); break;
		}
	}
	switch (below(r, 20)) {
	case 0 ... 9: s->max_entries = 1 + below(r, 16); break;
	case 10 ... 15: s->max_entries = 17 + below(r, 240); break;
	case 16 ... 18: s->max_entries = 257 + below(r, 1024); break;
	default: s->max_entries = 0; break;
	}
	if (!is_fd_array(s->type) && chance(r, 12)) {
		s->btf_value = (__u32[]){ T_LL, T_VAL, T_LOCKVAL, T_INT }[below(r, 4)];
		s->value_size = chance(r, 90) ? btf_size[s->btf_value] : s->value_size;
	}
	if (s->type == BPF_MAP_TYPE_ARRAY && chance(r, 30))
		s->flags |= BPF_F_MMAPABLE;
	if (chance(r, 20))
		s->flags |= create_flags[below(r, sizeof(create_flags) / sizeof(create_flags[0]))];
	if (chance(r, 2))
		s->flags |= 1u << below(r, 32);
	if (s->flags & BPF_F_NUMA_NODE)
		s->numa_node = (__u32[]){ 0, 1, 255, NO_NODE }[below(r, 4)];
	if (chance(r, 2))
		s->map_extra = next(r);
	if (s->type == BPF_MAP_TYPE_ARRAY_OF_MAPS)
		s->inner = inners[below(r, sizeof(inners) / sizeof(inners[0]))];
	/* Keep valid maps small: the fuzzer looks at values, not at the allocator's limits. */
	per_entry = ((s->value_size + 7ul) & ~7ul) *
		    (s->type == BPF_MAP_TYPE_PERCPU_ARRAY ? cfg.ncpus : 1);
	if (per_entry && s->max_entries > MEM_CAP / per_entry)
		s->max_entries = MEM_CAP / per_entry ?: 1;
	s->unpriv = chance(r, 15);
}

static __u32 draw_key(struct rng *r, const struct spec *s)
{
	switch (below(r, 20)) {
	case 0: return s->max_entries;
	case 1: return (__u32)next(r);
	case 2: return ~0u;
	case 3 ... 4: return below(r, s->max_entries + 4);
	default: return below(r, s->max_entries);
	}
}

/*
 * Flags of an update (and, less often, of a lookup): any combination of the valid bits (with
 * BPF_F_CPU, a CPU number in the upper half, possible or not), single bits and garbage.
 */
static __u64 draw_flags(struct rng *r, bool lookup)
{
	__u64 f;

	if (lookup && chance(r, 50))
		return 0;
	switch (below(r, 16)) {
	case 0 ... 4: return BPF_ANY;
	case 5 ... 13:
		f = below(r, VALID_FLAGS);
		if (f & BPF_F_CPU)
			f |= (__u64)below(r, cfg.ncpus + 2) << 32;
		return f;
	case 14: return 1ULL << below(r, 64);
	default: return next(r);
	}
}

/* The flags @o passes for its elements: a batch's elem_flags, another command's flags. */
static __u64 elem_flags_of(const struct op *o)
{
	return o->kind >= K_B_LOOKUP && o->kind <= K_B_LOOKUP_AND_DELETE ? o->elem_flags : o->flags;
}

/* Counts @o in its flag coverage cell, if its flags are a combination of the valid bits. */
static void count_flag_cell(const struct op *o)
{
	__u64 f = elem_flags_of(o);

	if ((__u32)f < VALID_FLAGS && (!(f >> 32) || (f & BPF_F_CPU)))
		stats.flag_cells[pairs[o->pair].s.type][o->kind][(__u32)f]++;
}

/*
 * The flag coverage report: cells run of all (six types, each command of flag_kinds, 32
 * combinations); the cells never run are listed. True if none is missing.
 */
static bool flag_coverage(FILE *f)
{
	size_t t, k;
	int c, hit = 0, all = 0;

	/* The six types are those type_name[] names. */
	for (t = 0; t < TYPE_MAX; t++) {
		if (!type_name[t])
			continue;
		for (k = 0; k < sizeof(flag_kinds) / sizeof(flag_kinds[0]); k++)
			for (c = 0; c < VALID_FLAGS; c++, all++) {
				if (stats.flag_cells[t][flag_kinds[k]][c]) {
					hit++;
					continue;
				}
				if (f)
					fprintf(f, "flag cell never run: %s %s flags %#x\n",
						type_name[t], kind_name[flag_kinds[k]], c);
			}
	}
	printf("# flag cells (type, command, combination of the valid flags) run: %d of %d\n", hit,
	       all);
	return hit == all;
}

static int draw_fd(struct rng *r)
{
	return below(r, 5) ? (int)below(r, P_BADFD) : (int)below(r, P_NR);
}

static void draw_op(__u64 epoch, long i, struct op *o)
{
	struct rng r = rng_for(cfg.seed, epoch, i);
	const struct pair *p;
	int w = below(&r, 10000), k;

	memset(o, 0, sizeof(*o));
	o->pair = valid_idx[below(&r, nvalid)];
	p = &pairs[o->pair];
	for (k = 0; k < K_NR - 1 && w >= kind_weight[k]; k++)
		w -= kind_weight[k];
	if (((k == K_MM_READ || k == K_MM_WRITE) && !p->side[0].mm) ||
	    (k == K_MM_WRITE && !p->side[0].mm_writable) ||
	    ((k >= K_P_LOOKUP || k == K_ITER) && !p->has_prog) || (k == K_P_LOOKUP_PERCPU && !p->percpu))
		k = K_LOOKUP;
	o->kind = k;
	o->key = draw_key(&r, &p->s);
	o->key_null = chance(&r, 15);
	o->flags = draw_flags(&r, k == K_LOOKUP || k == K_B_LOOKUP);
	o->seed = next(&r);
	o->cpu = below(&r, 4) ? below(&r, cfg.ncpus) : below(&r, cfg.ncpus + 4) - 2;
	o->stop = 1 + below(&r, p->s.max_entries + 2);
	o->hash = chance(&r, 50);
	o->in_null = chance(&r, 40);
	o->in_batch = draw_key(&r, &p->s);
	o->count = below(&r, 8) ? below(&r, p->s.max_entries + 3) : (__u32)next(&r);
	if (o->count > BATCH_MAX && below(&r, 8))
		o->count = below(&r, BATCH_MAX + 1);
	o->elem_flags = chance(&r, 20) ? 0 : draw_flags(&r, false);
	if (!chance(&r, 85))
		o->flags = chance(&r, 50) ? o->flags : next(&r);
	if (k == K_B_LOOKUP || k == K_B_UPDATE || k == K_B_DELETE || k == K_B_LOOKUP_AND_DELETE)
		o->flags = chance(&r, 90) ? 0 : 1ULL << below(&r, 64);
	if (p->mm_len) {
		o->off = below(&r, p->mm_len);
		o->len = 1 + below(&r, p->mm_len - o->off);
		if (o->len > 512)
			o->len = 512;
	}
	for (k = 0; k < BATCH_MAX; k++)
		o->fdsel[k] = draw_fd(&r);
	/* The syscall kinds: mmap and BPF use the mapping and the program made at creation. */
	if (o->kind < K_MM_READ)
		o->view = below(&r, 100) < 84 ? V_RW : V_RDONLY + below(&r, 2);
	/* reopen: one of the restricted fds, closed and opened again by id. */
	if (o->kind == K_REOPEN)
		o->view = V_RDONLY + below(&r, 2);
	/* The CPU of the op's block, from a generator of the block: a replayed op keeps it. */
	r = rng_for(cfg.seed, epoch, (1ull << 62) | (__u64)(i / RUN_CPU_BLOCK));
	o->run_cpu = cfg.online[below(&r, cfg.nonline)];
}

static const char *flags_str(__u64 f)
{
	static char b[4][32];
	static int n;

	n = (n + 1) % 4;
	snprintf(b[n], sizeof(b[n]), "%#llx", (unsigned long long)f);
	return b[n];
}

static void describe_spec(const struct spec *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s key %u value %u entries %u flags %#x%s%s%s%s%s",
		 type_name[s->type], s->key_size, s->value_size, s->max_entries, s->flags,
		 s->btf_value ? " btf" : "", s->map_extra ? " map_extra" : "",
		 s->inner >= 0 ? " inner " : "", s->inner >= 0 ? pool_name[s->inner] : "",
		 s->unpriv ? " unprivileged creator" : "");
}

static void describe_op(const struct op *o, char *buf, size_t len)
{
	const struct pair *p = &pairs[o->pair];
	size_t n;

	switch (o->kind) {
	case K_MM_READ:
	case K_MM_WRITE:
		snprintf(buf, len, "map %d %s off %u len %u", o->pair, kind_name[o->kind], o->off,
			 o->len);
		break;
	case K_REOPEN:
	case K_ITER:
	case K_FDINFO:
		snprintf(buf, len, "map %d %s", o->pair, kind_name[o->kind]);
		break;
	case K_B_LOOKUP:
	case K_B_UPDATE:
	case K_B_DELETE:
	case K_B_LOOKUP_AND_DELETE:
		snprintf(buf, len, "map %d %s in %s%u count %u elem_flags %s flags %s", o->pair,
			 kind_name[o->kind], o->in_null ? "NULL/" : "", o->in_batch, o->count,
			 flags_str(o->elem_flags), flags_str(o->flags));
		break;
	default:
		snprintf(buf, len, "map %d %s key %s%u flags %s cpu %d stop %u%s%s", o->pair,
			 kind_name[o->kind], o->key_null && o->kind == K_GET_NEXT ? "NULL/" : "",
			 o->key, flags_str(o->flags), (int)o->cpu, o->stop,
			 p->fd_array && o->kind == K_UPDATE ? " fd " : "",
			 p->fd_array && o->kind == K_UPDATE ? pool_name[o->fdsel[0]] : "");
		if (o->kind >= K_P_LOOKUP) {
			n = strlen(buf);
			snprintf(buf + n, len - n, " on CPU %d", o->run_cpu);
		}
	}
	n = strlen(buf);
	snprintf(buf + n, len - n, "%s", view_name[o->view]);
}

/* --- running an operation on one side ------------------------------------------------------ */

/* The values an update writes: random bytes, or for fd arrays the fds of the drawn objects. */
static void make_values(const struct op *o, const struct pair *p, __u32 n, size_t vsize)
{
	__u32 i;

	if (p->fd_array) {
		for (i = 0; i < n && i < BATCH_MAX; i++) {
			int fd = pool[o->fdsel[i]];

			memcpy(in_vals + i * vsize, &fd, sizeof(fd));
		}
		return;
	}
	fill(o->seed, in_vals, n * vsize);
}

/* The value bytes an element occupies in a user buffer for @flags. */
static size_t value_bytes(const struct pair *p, __u64 flags)
{
	if (p->percpu && !(flags & (BPF_F_CPU | BPF_F_ALL_CPUS)))
		return p->uvs;
	return p->s.value_size;
}

static long run_batch(const struct op *o, const struct pair *p, int fd, unsigned char *buf,
		      size_t *len)
{
	static const int cmd[] = { BPF_MAP_LOOKUP_BATCH, BPF_MAP_UPDATE_BATCH,
				   BPF_MAP_DELETE_BATCH, BPF_MAP_LOOKUP_AND_DELETE_BATCH };
	size_t vb = p->uvs, room = (OUT_MAX - 64) / (vb + 8);
	__u32 n = o->count, in = o->in_batch, outb = 0x5a5a5a5a, i;
	bool writes = o->kind == K_B_UPDATE || o->kind == K_B_DELETE;
	union bpf_attr a = {};
	unsigned char *keys = buf + 16, *vals;
	long ret;

	/*
	 * The buffers hold what the kernel may touch: the keys and values drawn for an update or
	 * a delete (whose count is theirs), at most max_entries elements for a lookup (whose
	 * count, however large, is passed as drawn: the kernel stops at the last element).
	 */
	if (writes && n > BATCH_MAX)
		n = BATCH_MAX;
	if (n > p->s.max_entries + 3)
		n = p->s.max_entries + 3;
	if (n > room)
		n = room;
	vals = keys + ((n * 4 + 7) & ~7u);
	*len = 16 + (vals - keys) + n * vb;
	memset(buf, 0xa5, *len + SLACK);
	if (writes) {
		for (i = 0; i < n; i++) {
			struct rng r = rng_for(o->seed, i, 1);
			__u32 k = draw_key(&r, &p->s);

			memcpy(keys + 4 * i, &k, 4);
		}
		make_values(o, p, n, vb);
		memcpy(vals, in_vals, n * vb);
	}
	a.batch.in_batch = o->in_null ? 0 : (unsigned long)&in;
	a.batch.out_batch = (unsigned long)&outb;
	a.batch.keys = (unsigned long)keys;
	a.batch.values = (unsigned long)vals;
	a.batch.count = writes ? n : o->count;
	a.batch.map_fd = fd;
	a.batch.elem_flags = o->elem_flags;
	a.batch.flags = o->flags;
	ret = sys_bpf(cmd[o->kind - K_B_LOOKUP], &a);
	memcpy(buf, &a.batch.count, 4);
	memcpy(buf + 4, &outb, 4);
	memcpy(buf + 8, &in, 4);
	return ret;
}

/* Binds the fuzzer to @cpu (it stays there until another BPF-side op moves it). */
static int run_on(int cpu)
{
	int ret = cpu == cur_cpu ? 0 : bind_to_cpu(cpu);

	if (!ret)
		cur_cpu = cpu;
	return ret;
}

static long run_prog(const struct op *o, const struct pair *p, struct fuzz *skel,
		     unsigned char *buf, size_t *len)
{
	struct args a = {
		.op = o->kind - K_P_LOOKUP,
		.key = o->key,
		.flags = o->flags,
		.cpu = o->cpu,
		.vsize = p->s.value_size,
		.stop = o->stop,
	};
	/* A SYSCALL program's context is copied back to ctx_in (ctx_out is refused). */
	LIBBPF_OPTS(bpf_test_run_opts, t, .ctx_in = &a, .ctx_size_in = sizeof(a));
	struct bpf_program *prog = skel->progs.fuzz;
	long ret;

	if (o->kind == K_P_LOOKUP_PERCPU) {
		prog = skel->progs.fuzz_percpu;
		a.op = 0;
	}
	if (o->kind == K_P_UPDATE)
		fill(o->seed, skel->bss->vbuf, p->s.value_size);
	else
		memset(skel->bss->vbuf, 0xa5, p->s.value_size);
	ret = run_on(o->run_cpu);
	if (ret) {
		fprintf(stderr, "ERROR binding to CPU %d: %s\n", o->run_cpu, res(ret));
		stats.run_errors++;
	}
	ret = bpf_prog_test_run_opts(bpf_program__fd(prog), &t);
	if (ret < 0) {
		/* Not a result to compare: the run itself must work, or nothing was tested. */
		fprintf(stderr, "ERROR BPF_PROG_TEST_RUN: %s\n", res(-errno));
		stats.run_errors++;
	}
	ret = ret < 0 ? -errno : (long)t.retval;
	memcpy(buf, &a, sizeof(a));
	memcpy(buf + sizeof(a), skel->bss->vbuf, p->s.value_size);
	*len = sizeof(a) + p->s.value_size;
	return ret;
}

static long run_info(const struct op *o, int fd, unsigned char *buf, size_t *len)
{
	struct bpf_map_info info = {};
	unsigned char hash[32];
	__u32 ilen = sizeof(info);
	long ret;

	memset(hash, 0xa5, sizeof(hash));
	if (o->hash) {
		info.hash = (unsigned long)hash;
		info.hash_size = sizeof(hash);
	}
	ret = bpf_map_get_info_by_fd(fd, &info, &ilen);
	ret = ret < 0 ? -errno : ret;
	info.id = 0;
	info.hash = 0;
	memcpy(buf, &info, sizeof(info));
	memcpy(buf + sizeof(info), hash, sizeof(hash));
	memcpy(buf + sizeof(info) + sizeof(hash), &ilen, sizeof(ilen));
	*len = sizeof(info) + sizeof(hash) + sizeof(ilen);
	return ret;
}

/* Map @id opened by id for access @v (read-only or write-only): the fd or -errno. */
static int open_view(__u32 id, enum view v)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, opts,
		    .open_flags = v == V_RDONLY ? BPF_F_RDONLY : BPF_F_WRONLY);
	int fd = bpf_map_get_fd_by_id_opts(id, &opts);

	return fd < 0 ? -errno : fd;
}

/*
 * The map's fd of access @v (read-only or write-only) closed and opened again by id: the
 * release of a PERF_EVENT_ARRAY's file clears the events stored through it. 0 or the errno of
 * the new open (the old fd may have been refused too: it is tried again).
 */
static long reopen(struct side *d, enum view v)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);

	if (bpf_map_get_info_by_fd(d->fd, &info, &info_len))
		return -errno;
	if (d->view[v] >= 0 && d->view[v] != d->fd)
		close(d->view[v]);
	d->view[v] = open_view(info.id, v);
	return d->view[v] < 0 ? d->view[v] : 0;
}

/* The whole map through its iterator: the text into @buf, 0 or the errno of the first failure. */
static long run_iter(struct side *d, unsigned char *buf, size_t *len)
{
	union bpf_iter_link_info info = { .map.map_fd = d->fd };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info, .link_info_len = sizeof(info));
	struct bpf_link *link = bpf_program__attach_iter(d->skel->progs.fuzz_iter, &opts);
	long ret = 0, n;
	int it;

	*len = 0;
	if (!link)
		return -errno;
	it = bpf_iter_create(bpf_link__fd(link));
	if (it < 0) {
		ret = -errno;
		bpf_link__destroy(link);
		return ret;
	}
	while ((n = read(it, buf + *len, OUT_MAX - SLACK - *len)) > 0)
		*len += n;
	if (n < 0)
		ret = -errno;
	close(it);
	bpf_link__destroy(link);
	return ret;
}

/*
 * The map's lines of /proc/self/fdinfo/@fd (bpf_map_show_fdinfo()) into @buf, but map_id and
 * ops_owner (the two sides' differ) and the file's own (pos, flags, mnt_id, ino).
 */
static long run_fdinfo(int fd, unsigned char *buf, size_t *len)
{
	static const char *const skip[] = { "map_id:", "ops_owner:", "pos:", "flags:", "mnt_id:",
					    "ino:" };
	char path[64], line[256];
	size_t i, n;
	FILE *f;

	*len = 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			if (!strncmp(line, skip[i], strlen(skip[i])))
				break;
		n = strlen(line);
		if (i < sizeof(skip) / sizeof(skip[0]) || *len + n > OUT_MAX - SLACK)
			continue;
		memcpy(buf + *len, line, n);
		*len += n;
	}
	fclose(f);
	return 0;
}

static long run_op_raw(const struct op *o, int s, unsigned char *buf, size_t *len)
{
	struct pair *p = &pairs[o->pair];
	struct side *d = &p->side[s];
	union bpf_attr a = {};
	__u32 key = o->key;
	size_t vb = value_bytes(p, o->flags);

	int fd = d->view[o->view];

	*len = 0;
	a.map_fd = fd;
	a.key = (unsigned long)&key;
	a.flags = o->flags;
	switch (o->kind) {
	case K_LOOKUP:
	case K_LOOKUP_AND_DELETE:
		*len = vb;
		memset(buf, 0xa5, vb + SLACK);
		a.value = (unsigned long)buf;
		return sys_bpf(o->kind == K_LOOKUP ? BPF_MAP_LOOKUP_ELEM :
			       BPF_MAP_LOOKUP_AND_DELETE_ELEM, &a);
	case K_UPDATE:
		make_values(o, p, 1, vb);
		a.value = (unsigned long)in_vals;
		return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
	case K_DELETE:
		/* flags is past the command's last field: anything but 0 is the syscall's EINVAL. */
		a.flags = 0;
		return sys_bpf(BPF_MAP_DELETE_ELEM, &a);
	case K_GET_NEXT:
		a.key = o->key_null ? 0 : (unsigned long)&key;
		a.next_key = (unsigned long)buf;
		a.flags = 0;
		*len = 4;
		memset(buf, 0xa5, 4 + SLACK);
		return sys_bpf(BPF_MAP_GET_NEXT_KEY, &a);
	case K_B_LOOKUP:
	case K_B_UPDATE:
	case K_B_DELETE:
	case K_B_LOOKUP_AND_DELETE:
		return run_batch(o, p, fd, buf, len);
	case K_FREEZE:
		/* Every field past map_fd must be 0 (CHECK_ATTR). */
		memset(&a, 0, sizeof(a));
		a.map_fd = fd;
		return sys_bpf(BPF_MAP_FREEZE, &a);
	case K_INFO:
		return run_info(o, fd, buf, len);
	case K_MM_READ:
		memcpy(buf, (char *)d->mm + o->off, o->len);
		*len = o->len;
		return 0;
	case K_MM_WRITE:
		fill(o->seed, (char *)d->mm + o->off, o->len);
		return 0;
	case K_REOPEN:
		return reopen(d, o->view);
	case K_ITER:
		return run_iter(d, buf, len);
	case K_FDINFO:
		return run_fdinfo(d->fd, buf, len);
	default:
		return run_prog(o, p, d->skel, buf, len);
	}
}

/*
 * One op on side @s, its output in @buf[0, *len). The SLACK bytes past it are compared too: the
 * kernel's own writes (lookups, get_next_key, batches) are checked there for overruns; for the
 * outputs assembled here they are set, so that no byte of an earlier op is compared.
 */
static long run_op(const struct op *o, int s, unsigned char *buf, size_t *len)
{
	long ret = run_op_raw(o, s, buf, len);

	switch (o->kind) {
	case K_LOOKUP:
	case K_LOOKUP_AND_DELETE:
	case K_GET_NEXT:
	case K_B_LOOKUP:
	case K_B_UPDATE:
	case K_B_DELETE:
	case K_B_LOOKUP_AND_DELETE:
		break;
	default:
		memset(buf + *len, 0xa5, SLACK);
	}
	return ret;
}

static void hexdump(const char *who, const unsigned char *b, size_t len, size_t at)
{
	size_t i, from = at > 16 ? (at - 16) & ~15ul : 0;

	fprintf(stderr, "  %s bytes %zu.. of %zu:", who, from, len);
	for (i = from; i < len && i < from + 48; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n    ", b[i]);
	fprintf(stderr, "\n");
}

/* Runs op @i on both sides; true if they differ (printed when @loud). */
static bool run_pair(long i, const struct op *o, bool loud)
{
	char what[256];
	size_t n, at;
	int s;

	for (s = 0; s < 2; s++)
		out_ret[s] = run_op(o, s, out[s], &out_len[s]);
	n = out_len[0] + SLACK;
	for (at = 0; at < n && out[0][at] == out[1][at]; at++)
		;
	if (out_ret[0] == out_ret[1] && out_len[0] == out_len[1] && at == n) {
		stats.per_kind_ok[o->kind] += out_ret[0] >= 0;
		if (o->kind >= K_P_LOOKUP)
			stats.bpf_ok_on[o->run_cpu] += out_ret[0] >= 0;
		if (o->kind < K_MM_READ) {
			stats.per_view[o->view]++;
			stats.per_view_ok[o->view] += out_ret[0] >= 0;
		}
		if (cfg.verbose) {
			describe_op(o, what, sizeof(what));
			printf("op %ld: %s: %s\n", i, what, res(out_ret[0]));
		}
		return false;
	}
	if (loud) {
		char spec[160];

		describe_op(o, what, sizeof(what));
		describe_spec(&pairs[o->pair].s, spec, sizeof(spec));
		fprintf(stderr, "DIVERGENCE at op %ld: %s (map %d: %s)\n  C %s (%ld), Rust %s (%ld)\n",
			i, what, o->pair, spec, res(out_ret[0]), out_ret[0], res(out_ret[1]),
			out_ret[1]);
		if (at < n) {
			hexdump("C", out[0], n, at);
			hexdump("Rust", out[1], n, at);
		}
	}
	return true;
}

/* --- epochs -------------------------------------------------------------------------------- */

static void side_close(struct side *d, const struct pair *p)
{
	int v;

	if (d->mm)
		munmap(d->mm, (p->mm_len + 4095) & ~4095ul);
	if (d->skel)
		fuzz__destroy(d->skel);
	for (v = V_RW + 1; v < V_NR; v++)
		if (d->view[v] >= 0)
			close(d->view[v]);
	if (d->fd >= 0)
		close(d->fd);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	for (v = 0; v < V_NR; v++)
		d->view[v] = -EBADF;
}

static void epoch_close(void)
{
	int i;

	for (i = 0; i < cfg.maps; i++) {
		side_close(&pairs[i].side[0], &pairs[i]);
		side_close(&pairs[i].side[1], &pairs[i]);
	}
	if (pool[P_INNER_RUST] >= 0)
		close(pool[P_INNER_RUST]);
	pool[P_INNER_RUST] = -1;
}

/* The map of @p on side @s, its mmap and its program: what the other side must match. */
static void side_open(struct pair *p, int i, int s)
{
	struct side *d = &p->side[s];
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char name[16];
	size_t mlen = (p->mm_len + 4095) & ~4095ul;
	int err, v;

	snprintf(name, sizeof(name), "fz%d", i);
	d->fd = spec_create(&p->s, name);
	d->mm = NULL;
	d->skel = NULL;
	for (v = 0; v < V_NR; v++)
		d->view[v] = d->fd;
	if (d->fd < 0)
		return;
	stats.created[s]++;
	stats.unpriv_created += p->s.unpriv && s;
	/* The same map opened read-only and write-only, by id, as another process would. */
	if (!bpf_map_get_info_by_fd(d->fd, &info, &info_len)) {
		for (v = V_RDONLY; v < V_NR; v++)
			d->view[v] = open_view(info.id, v);
	}
	if (p->s.flags & BPF_F_MMAPABLE && mlen) {
		d->mm = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
		d->mm_writable = d->mm != MAP_FAILED;
		if (d->mm == MAP_FAILED)
			d->mm = mmap(NULL, mlen, PROT_READ, MAP_SHARED, d->fd, 0);
		d->mm_ret = d->mm == MAP_FAILED ? -errno : 0;
		if (d->mm == MAP_FAILED)
			d->mm = NULL;
	}
	if (!is_fd_array(p->s.type) && p->s.value_size <= VMAX) {
		d->skel = fuzz__open();
		if (!d->skel) {
			d->prog_ret = -errno;
			return;
		}
		err = bpf_map__reuse_fd(d->skel->maps.target, d->fd);
		if (!err && !p->percpu)
			err = bpf_program__set_autoload(d->skel->progs.fuzz_percpu, false);
		if (!err)
			err = fuzz__load(d->skel);
		d->prog_ret = err;
		if (err) {
			fuzz__destroy(d->skel);
			d->skel = NULL;
		}
	}
}

/* An fd's outcome: 0 for an fd, else the -errno. */
static int fd_status(int fd)
{
	return fd < 0 ? fd : 0;
}

/* Compares what creating the two maps of pair @i gave; true if they differ. */
static bool compare_created(int i)
{
	struct pair *p = &pairs[i];
	struct side *c = &p->side[0], *r = &p->side[1];
	struct op o = { .kind = K_INFO, .pair = i };
	char what[160];
	size_t len;

	describe_spec(&p->s, what, sizeof(what));
	if ((c->fd < 0 || r->fd < 0) && c->fd != r->fd) {
		fprintf(stderr, "DIVERGENCE at create map %d (%s): C %s, Rust %s\n", i, what,
			res(c->fd), res(r->fd));
		return true;
	}
	if (c->fd < 0)
		return false;
	if (fd_status(c->view[V_RDONLY]) != fd_status(r->view[V_RDONLY]) ||
	    fd_status(c->view[V_WRONLY]) != fd_status(r->view[V_WRONLY])) {
		fprintf(stderr, "DIVERGENCE at create map %d (%s): opening it read-only C %s, "
			"Rust %s; write-only C %s, Rust %s\n", i, what, res(c->view[V_RDONLY]),
			res(r->view[V_RDONLY]), res(c->view[V_WRONLY]), res(r->view[V_WRONLY]));
		return true;
	}
	if (c->mm_ret != r->mm_ret || !c->mm != !r->mm || c->mm_writable != r->mm_writable ||
	    c->prog_ret != r->prog_ret || !c->skel != !r->skel) {
		fprintf(stderr, "DIVERGENCE at create map %d (%s): mmap C %s%s, Rust %s%s; "
			"program C %s, Rust %s\n", i, what, res(c->mm_ret),
			c->mm_writable ? " rw" : "", res(r->mm_ret), r->mm_writable ? " rw" : "",
			res(c->prog_ret), res(r->prog_ret));
		return true;
	}
	out_ret[0] = run_info(&o, c->fd, out[0], &len);
	out_ret[1] = run_info(&o, r->fd, out[1], &len);
	if (out_ret[0] != out_ret[1] || memcmp(out[0], out[1], len)) {
		fprintf(stderr, "DIVERGENCE at create map %d (%s): bpf_map_info differs\n", i,
			what);
		return true;
	}
	return false;
}

/*
 * Epoch @e with the ops @only (-1 ended, NULL: all of the epoch's). Returns the index of the
 * op that diverged, -2 for a divergence at creation, -1 for none, -3 for a failure of the
 * run itself. *@ran: the ops run.
 */
static long run_epoch(__u64 e, const long *only, long nops, long *ran, bool loud)
{
	struct rng r = rng_for(cfg.seed, e, ~0ull);
	long i, k, result = -1;
	struct op o;
	int m, refs;

	*ran = 0;
	if (module_remove())
		return -3;
	memset(pairs, 0, sizeof(pairs));
	nvalid = 0;
	for (m = 0; m < cfg.maps; m++) {
		struct pair *p = &pairs[m];

		draw_spec(&r, &p->s);
		p->side[1].fd = -1;
		p->percpu = p->s.type == BPF_MAP_TYPE_PERCPU_ARRAY;
		p->fd_array = is_fd_array(p->s.type);
		p->stride = (p->s.value_size + 7ul) & ~7ul;
		p->uvs = p->percpu ? p->stride * cfg.ncpus : p->s.value_size;
		p->mm_len = (p->s.flags & BPF_F_MMAPABLE) ? p->stride * p->s.max_entries : 0;
		side_open(p, m, 0);
	}
	if (module_insert())
		return -3;
	pool[P_INNER_RUST] = small_array(BPF_MAP_TYPE_ARRAY, 8);
	for (m = 0; m < cfg.maps; m++) {
		struct pair *p = &pairs[m];

		side_open(p, m, 1);
		if (compare_created(m)) {
			result = -2;
			goto out;
		}
		p->valid = p->side[0].fd >= 0;
		p->has_prog = p->side[0].skel;
		if (p->valid) {
			valid_idx[nvalid++] = m;
			stats.maps_valid++;
			stats.progs += p->has_prog;
			stats.mmaps += !!p->side[0].mm;
		}
	}
	/* Each Rust twin names the module in its fdinfo: proof that it is Rust's. */
	for (m = 0; m < nvalid; m++)
		if (!served_by_module(pairs[valid_idx[m]].side[1].fd)) {
			fprintf(stderr, "map %d is not served by the module\n", valid_idx[m]);
			result = -3;
			goto out;
		}
	/* Each map the module serves holds a reference (and the inner map it made, one more). */
	refs = module_refs();
	if (pool[P_INNER_RUST] < 0 || refs < nvalid + 1) {
		fprintf(stderr, "the module does not serve the maps: inner %s, refcnt %d for %d maps\n",
			res(pool[P_INNER_RUST]), refs, nvalid + 1);
		result = -3;
		goto out;
	}
	if (!nvalid)
		goto out;
	for (k = 0; only ? only[k] >= 0 : k < nops; k++) {
		i = only ? only[k] : k;
		draw_op(e, i, &o);
		(*ran)++;
		stats.per_kind[o.kind]++;
		count_flag_cell(&o);
		if (run_pair(i, &o, loud)) {
			result = i;
			break;
		}
	}
out:
	epoch_close();
	return result;
}

/*
 * Shrinks the ops before @bad (which diverged in epoch @e) to fewer that still make @bad
 * diverge, re-running the epoch from fresh maps each time; prints the replay command.
 */
static void shrink(__u64 e, long bad)
{
	long *cur = calloc(bad + 2, sizeof(long)), *try = calloc(bad + 2, sizeof(long));
	long n = bad, chunk, at, i, t, ran, runs = 0;
	bool was_verbose = cfg.verbose;

	if (!cur || !try)
		return;
	for (i = 0; i < bad; i++)
		cur[i] = i;
	for (chunk = (n + 1) / 2; chunk >= 1 && runs < SHRINK_RUNS; chunk /= 2) {
		for (at = 0; at < n && runs < SHRINK_RUNS;) {
			for (i = 0, t = 0; i < n; i++)
				if (i < at || i >= at + chunk)
					try[t++] = cur[i];
			try[t] = bad;
			try[t + 1] = -1;
			runs++;
			if (run_epoch(e, try, 0, &ran, false) == bad) {
				memcpy(cur, try, (t + 2) * sizeof(long));
				n = t;
			} else {
				at += chunk;
			}
		}
		if (chunk == 1)
			break;
	}
	cur[n] = bad;
	cur[n + 1] = -1;
	printf("# shrunk to %ld ops in %ld runs; replay (on %d CPUs, online %s): "
	       "mapfuzz -s %llu -m %d -e %llu -o ", n + 1, runs, cfg.ncpus, online_str(),
	       (unsigned long long)cfg.seed, cfg.maps, (unsigned long long)e);
	for (i = 0; i <= n; i++)
		printf("%s%ld", i ? "," : "", cur[i]);
	printf("\n");
	cfg.verbose = true;
	run_epoch(e, cur, 0, &ran, true);
	cfg.verbose = was_verbose;
	free(cur);
	free(try);
}

/*
 * Whether every kind that can succeed on valid input did, at least once, in a run long enough
 * that its absence means the op (or the setup it needs: a program, an mmap) never worked.
 */
static bool coverage_ok(void)
{
	static const enum kind must[] = {
		K_LOOKUP, K_UPDATE, K_DELETE, K_GET_NEXT, K_B_LOOKUP, K_B_UPDATE, K_INFO, K_MM_READ,
		K_MM_WRITE, K_REOPEN, K_ITER, K_FDINFO, K_P_LOOKUP, K_P_UPDATE, K_P_FOR_EACH, K_P_LOOKUP_PERCPU,
	};
	bool ok = true;
	size_t i;

	if (stats.ops < COVERAGE_OPS)
		return true;
	if (!stats.unpriv_created) {
		fprintf(stderr, "no map was created by an unprivileged creator in %ld ops "
			"(kernel.unprivileged_bpf_disabled must be 0)\n", stats.ops);
		ok = false;
	}
	for (i = V_RDONLY; i < V_NR; i++) {
		if (stats.per_view_ok[i])
			continue;
		fprintf(stderr, "no op%s succeeded in %ld ops\n", view_name[i], stats.ops);
		ok = false;
	}
	for (i = 0; i < (size_t)cfg.nonline; i++) {
		if (stats.bpf_ok_on[cfg.online[i]])
			continue;
		fprintf(stderr, "no BPF-side op succeeded on CPU %d in %ld ops\n", cfg.online[i],
			stats.ops);
		ok = false;
	}
	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		if (stats.per_kind_ok[must[i]])
			continue;
		fprintf(stderr, "no %s succeeded in %ld ops: the op or its setup never worked\n",
			kind_name[must[i]], stats.ops);
		ok = false;
	}
	return ok;
}

static long *parse_list(const char *s)
{
	long *l = calloc(strlen(s) + 2, sizeof(long)), n = 0;
	char *end;

	while (l && *s) {
		l[n++] = strtol(s, &end, 10);
		if (end == s || l[n - 1] < 0)
			return NULL;
		s = *end == ',' ? end + 1 : end;
	}
	if (l)
		l[n] = -1;
	return l;
}

static __u64 random_seed(void)
{
	__u64 s = 0;
	int fd = open("/dev/urandom", O_RDONLY);

	if (fd < 0 || read(fd, &s, sizeof(s)) != sizeof(s))
		s = time(NULL);
	if (fd >= 0)
		close(fd);
	return s;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(int argc, char **argv)
{
	long total = 1000000, divergences = 0, ran, ret, *only = NULL, epoch = -1;
	time_t start = time(NULL);
	bool flags_ok;
	int c, k;
	__u64 e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	cfg.ko = getenv("KO");
	cfg.seed = random_seed();
	while ((c = getopt(argc, argv, "s:n:m:E:k:e:o:v")) != -1) {
		switch (c) {
		case 's': cfg.seed = strtoull(optarg, NULL, 0); break;
		case 'n': total = strtol(optarg, NULL, 0); break;
		case 'm': cfg.maps = atoi(optarg); break;
		case 'E': cfg.ops_per_epoch = strtol(optarg, NULL, 0); break;
		case 'k': cfg.ko = optarg; break;
		case 'e': epoch = strtol(optarg, NULL, 0); break;
		case 'o': only = parse_list(optarg); break;
		case 'v': cfg.verbose = true; break;
		default:
			fprintf(stderr, "usage: mapfuzz [-s SEED] [-n OPS] [-m MAPS] [-E OPS_PER_EPOCH] "
				"[-k KO] [-v] [-e EPOCH -o I,J,...]\n");
			return 2;
		}
	}
	if (!cfg.ko || cfg.maps < 1 || cfg.maps > MAX_MAPS || cfg.ops_per_epoch < 1 ||
	    (epoch >= 0) != !!only) {
		fprintf(stderr, "mapfuzz: needs -k KO (or $KO), 1..%d maps, and -e with -o\n",
			MAX_MAPS);
		return 2;
	}
	libbpf_set_print(silent);
	cfg.ncpus = libbpf_num_possible_cpus();
	if (cfg.ncpus < 1 || cfg.ncpus > MAX_CPUS)
		return fprintf(stderr, "%d possible CPUs: not supported\n", cfg.ncpus), 1;
	/* BPF-side per-CPU values are the running CPU's: each op's two sides run on one CPU. */
	cfg.nonline = online_cpus(cfg.online, cfg.ncpus);
	if (!cfg.nonline || run_on(cfg.online[0]))
		return perror("binding to an online CPU"), 1;
	if (module_remove() || pool_setup())
		return 1;
	printf("# seed %llu, %d maps per epoch, %ld ops per epoch, %d CPUs (online: %s)\n",
	       (unsigned long long)cfg.seed, cfg.maps, cfg.ops_per_epoch, cfg.ncpus, online_str());
	if (only) {
		cfg.verbose = true;
		ret = run_epoch(epoch, only, 0, &ran, true);
		stats.ops = ran;
		divergences = ret >= -2 && ret != -1;
		if (ret == -3)
			return 1;
	}
	for (e = 0; !only && stats.ops < total; e++) {
		ret = run_epoch(e, NULL, total - stats.ops < cfg.ops_per_epoch ?
				total - stats.ops : cfg.ops_per_epoch, &ran, true);
		stats.ops += ran;
		stats.epochs++;
		if (ret == -3)
			return 1;
		if (ret == -1)
			continue;
		fprintf(stderr, "# seed %llu epoch %llu\n", (unsigned long long)cfg.seed,
			(unsigned long long)e);
		if (!divergences++ && ret >= 0)
			shrink(e, ret);
		else if (ret == -2)
			printf("# replay (on %d CPUs, online %s): mapfuzz -s %llu -m %d -e %llu "
			       "-o 0 (creation diverges)\n", cfg.ncpus, online_str(),
			       (unsigned long long)cfg.seed, cfg.maps, (unsigned long long)e);
		/* A broken op diverges everywhere: three epochs tell enough. */
		if (divergences >= 3)
			break;
	}
	epoch_close();
	if (module_remove())
		return 1;
	printf("# %ld epochs in %lds: %ld maps created per side (%ld valid, %ld with a program, "
	       "%ld mmapped), insmod %ld, rmmod %ld\n", stats.epochs, (long)(time(NULL) - start),
	       stats.created[1], stats.maps_valid, stats.progs, stats.mmaps, stats.insmods,
	       stats.rmmods);
	printf("# ops per kind (of which succeeded):");
	for (k = 0; k < K_NR; k++)
		printf("%s %s %ld (%ld)", k ? "," : "", kind_name[k], stats.per_kind[k],
		       stats.per_kind_ok[k]);
	printf("\n# maps created by an unprivileged creator: %ld per side; ops through a read-only "
	       "fd %ld (%ld succeeded), through a write-only fd %ld (%ld)",
	       stats.unpriv_created, stats.per_view[V_RDONLY], stats.per_view_ok[V_RDONLY],
	       stats.per_view[V_WRONLY], stats.per_view_ok[V_WRONLY]);
	printf("\n# BPF-side ops that succeeded per CPU:");
	for (k = 0; k < cfg.nonline; k++)
		printf("%s %d: %ld", k ? "," : "", cfg.online[k], stats.bpf_ok_on[cfg.online[k]]);
	printf("\n");
	/* A full run must have run every cell; a shorter one reports. */
	flags_ok = flag_coverage(stats.ops >= FLAG_COVERAGE_OPS ? stderr : NULL) ||
		   stats.ops < FLAG_COVERAGE_OPS;
	printf("%ld ops, %ld divergences (seed %llu)\n", stats.ops, divergences,
	       (unsigned long long)cfg.seed);
	rmdir(CGROUP_SUB);
	if (stats.run_errors)
		fprintf(stderr, "%ld BPF_PROG_TEST_RUN calls failed\n", stats.run_errors);
	return divergences || stats.run_errors || (!only && (!coverage_ok() || !flags_ok)) ? 1 : 0;
}

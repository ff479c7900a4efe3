// SPDX-License-Identifier: GPL-2.0
/*
 * stress: the module under racing lifecycles, for a fixed time, stopping by itself.
 *
 *   stress [-t SECONDS] [-r ROUND_SECONDS] [-k KO]
 *
 * In rounds. Each round inserts rust_arraymap (unless a racer already did), creates an ARRAY
 * and a PERCPU_ARRAY (the survivors), a PROG_ARRAY with a program tail-calling through its
 * slot 0 (an indirect tail call: see load_tail_caller_indirect()), a PERF_EVENT_ARRAY, and
 * starts threads that race for the round's time:
 *   - syscall:  updates of its own keys of the ARRAY (0..63), lookups of any key;
 *   - batch:    update_batch of its own keys (64..127), lookup_batch from any key on;
 *   - bpf:      BPF-side updates of its own keys (128..191) and lookups (BPF_PROG_TEST_RUN);
 *   - percpu:   updates of the PERCPU_ARRAY: every CPU's copy its own value, one CPU's
 *               (BPF_F_CPU) or one value for all (BPF_F_ALL_CPUS); lookups of all copies or of
 *               one (BPF_F_CPU), and lookup_batch of the whole map;
 *   - lockw:    BPF_F_LOCK updates of an ARRAY whose values hold a bpf_spin_lock, all fields
 *               of a value equal, while...
 *   - lockr:    ...BPF_F_LOCK lookups of it must never see a value half written;
 *   - slots:    replaces and deletes the PROG_ARRAY's slot 0 while...
 *   - tailcall: ...runs the tail-calling program (it must return 1, 2 or 3);
 *   - perf:     opens a BPF output perf event on a CPU (with a ring buffer), stores it in the
 *               PERF_EVENT_ARRAY at that CPU's index and closes it; every fourth through a map
 *               file of its own (BPF_MAP_GET_FD_BY_ID), closed at once, which clears what it
 *               stored, while...
 *   - output:   ...a program does bpf_perf_event_output() to the current CPU's event;
 *   - iter:     opens an iterator over the ARRAY, reads part of it, closes it;
 *   - churn:    creates and closes maps of all six types;
 *   - rmmod:    tries to remove the module (it must refuse while the survivors live).
 * Every value read is checked while the writers race: a key a thread writes itself must hold
 * exactly what it last wrote there; any other key 0 or a value of the key's own writer (the
 * writer's tag in the top byte), never one of another writer's or of no writer (keys 192..255).
 * Every count a batch returns, and lookup_batch's keys and out_batch, must be C's for the
 * in_batch and count given (generic_map_lookup_batch()).
 * Then it stops the threads, checks that each element of the survivors holds what its last
 * writer wrote, closes the survivors and, for the round's last part, lets churn and rmmod race
 * with nothing else alive: rmmod may win (the racer then inserts the module again) while maps
 * are being created. The round ends with everything closed and rmmod, which must succeed.
 * The last line: "N s, T threads, ... 0 lost values"; exit status 1 on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "fuzz.skel.h"

#define ENTRIES 256
#define OWN 64			/* keys per writer */
#define LOCKED 16		/* entries of the BPF_F_LOCK map */
#define MAX_CPUS 64

/* The threads; iter, churn and rmmod, last, also run alone at the end of a round. */
enum { W_SYSCALL, W_BATCH, W_BPF, W_PERCPU, W_LOCKW, W_LOCKR, W_SLOTS, W_TAILCALL, W_PERF,
       W_OUTPUT, W_ITER, W_CHURN, W_RMMOD, W_NR };
static const char *const wname[W_NR] = {
	"syscall", "batch", "bpf", "percpu", "lockw", "lockr", "slots", "tailcall", "perf",
	"output", "iter", "churn", "rmmod",
};

/* The BTF "lockval" of common.h: the lock inside the value, x == y == z == w == v. */
struct lockval {
	__u64 x;
	__u32 lock;
	__u32 y;
	__u64 z, w, v;
};

static struct {
	const char *ko;
	int seconds, round;
	int ncpus;
	int btf;
	int array, percpu, locked, prog_array, perf_array;
	__u32 perf_id;		/* the PERF_EVENT_ARRAY's id */
	int output;		/* bpf_perf_event_output() to perf_array's current CPU index */
	int prog[3];		/* returning 1, 2, 3 */
	int caller;		/* tail-calls prog_array slot 0, returns 1 if there is nothing */
	int iter_prog;
	__u64 last[ENTRIES];	/* what the last writer of each ARRAY key wrote */
	__u64 plast[OWN][MAX_CPUS];	/* the same for each CPU's copy of the PERCPU_ARRAY */
	__u64 llast[LOCKED];	/* and for the BPF_F_LOCK map */
} st;

static atomic_bool stop, survivors_alive;
static atomic_long ops[W_NR], checked, errors, tail_taken, outputs, rmmod_tries, rmmod_wins,
	rmmod_won_alive, insmods;

static void error(const char *what, long ret)
{
	fprintf(stderr, "ERROR %s: %s (%ld)\n", what, res(ret), ret);
	atomic_fetch_add(&errors, 1);
}

static int create(enum bpf_map_type type, __u32 value_size, __u32 entries, int inner)
{
	return create_map(type, value_size, entries, 0, inner, -1, 0);
}

static bool module_loaded(void)
{
	return module_refs() >= 0;
}

static int module_insert(void)
{
	int ret = module_insert_ko(st.ko);

	if (!ret)
		atomic_fetch_add(&insmods, 1);
	/* A racer may have inserted it first. */
	return ret == -EEXIST ? 0 : ret;
}

/* Write @n of thread @who: the thread in the top byte (never 0: 0 is a value never written). */
static __u64 tag(int who, __u64 n)
{
	return (__u64)(who + 1) << 56 | n;
}

static __u32 rnd(unsigned int *seed, __u32 n)
{
	return rand_r(seed) % n;
}

/*
 * A value read from ARRAY key @k by thread @who, racing the writers: exactly @who's last write
 * when @who owns the key, else 0 or a value of the key's writer (keys 0..191 belong to
 * W_SYSCALL, W_BATCH and W_BPF in turn, 192..255 to nobody). Only the upper half is compared
 * there, the writer's tag or 0: C copies a value with memcpy(), which need not be one store, so
 * a racing read may mix the counts of two writes, or the first write with the 0 before it.
 */
static void check_read(int who, __u32 k, __u64 v, const char *how)
{
	int owner = k / OWN;
	__u64 upper = v >> 32;

	atomic_fetch_add(&checked, 1);
	if (owner == who ? v == st.last[k] :
			   !v || (owner <= W_BPF && (!upper || upper == tag(owner, 0) >> 32)))
		return;
	fprintf(stderr, "ERROR %s: key %u holds %#llx (%s)\n", how, k, (unsigned long long)v,
		owner == who ? "its own writer last wrote another value" : "not a value of its writer");
	atomic_fetch_add(&errors, 1);
}

/* A batch count or key that is not C's: @what got @got, C gives @want. */
static void check_eq(const char *what, long got, long want)
{
	atomic_fetch_add(&checked, 1);
	if (got == want)
		return;
	fprintf(stderr, "ERROR %s: %ld, C gives %ld\n", what, got, want);
	atomic_fetch_add(&errors, 1);
}

/* --- the threads ---------------------------------------------------------------------------- */

static void *w_syscall(void *arg)
{
	unsigned int seed = 1;
	__u64 n = 0, v;
	__u32 k;
	int ret;

	while (!stop) {
		k = rnd(&seed, OWN);
		v = tag(W_SYSCALL, ++n);
		ret = bpf_map_update_elem(st.array, &k, &v, BPF_ANY);
		if (ret)
			error("syscall update", -errno);
		else
			st.last[k] = v;
		k = rnd(&seed, ENTRIES);
		if (bpf_map_lookup_elem(st.array, &k, &v))
			error("syscall lookup", -errno);
		else
			check_read(W_SYSCALL, k, v, "syscall lookup");
		atomic_fetch_add(&ops[W_SYSCALL], 2);
	}
	return NULL;
}

static void *w_batch(void *arg)
{
	/* Room for as many as lookup_batch is asked for (up to 8 more than the map has). */
	static __u32 keys[ENTRIES + 8];
	static __u64 vals[ENTRIES + 8];
	unsigned int seed = 2;
	__u32 i, count, asked, first, in, out, start;
	__u64 n = 0;
	int ret;

	while (!stop) {
		asked = count = 1 + rnd(&seed, 16);
		first = OWN + rnd(&seed, OWN - count + 1);
		for (i = 0; i < count; i++) {
			keys[i] = first + i;
			vals[i] = tag(W_BATCH, ++n);
		}
		ret = bpf_map_update_batch(st.array, keys, vals, &count, NULL);
		if (ret)
			error("update_batch", -errno);
		else
			check_eq("update_batch count", count, asked);
		for (i = 0; !ret && i < count; i++)
			st.last[keys[i]] = vals[i];
		/*
		 * From the start (no in_batch) or after key @in, @asked keys: C copies out
		 * min(asked, what is left), returns 0 when it stopped at @asked and -ENOENT when it
		 * ran out of keys, and names the last key copied in out_batch.
		 */
		/* Up to 8 more than the map has: the map, not the buffers, bounds what comes. */
		asked = count = 1 + rnd(&seed, ENTRIES + 8);
		in = rnd(&seed, ENTRIES + 1);
		start = in == ENTRIES ? 0 : in + 1;
		out = ~0u;
		ret = bpf_map_lookup_batch(st.array, in == ENTRIES ? NULL : &in, &out, keys, vals,
					   &count, NULL);
		/* libbpf returns -errno. */
		if (ret && ret != -ENOENT) {
			error("lookup_batch", ret);
		} else {
			__u32 want = asked < ENTRIES - start ? asked : ENTRIES - start;

			check_eq("lookup_batch count", count, want);
			check_eq("lookup_batch -ENOENT", ret, asked > want ? -ENOENT : 0);
			if (want)
				check_eq("lookup_batch out_batch", out, start + want - 1);
			for (i = 0; i < count && i < want; i++) {
				check_eq("lookup_batch key", keys[i], start + i);
				check_read(W_BATCH, keys[i], vals[i], "lookup_batch");
			}
		}
		atomic_fetch_add(&ops[W_BATCH], 2);
	}
	return NULL;
}

static void *w_bpf(void *arg)
{
	struct fuzz *skel = arg;
	unsigned int seed = 3;
	struct {
		__u32 op, key;
		__u64 flags;
		__u32 cpu, vsize, stop, pad;
		__s64 ret;
		__u64 count, sum;
	} a;
	/* A SYSCALL program's context is copied back to ctx_in (ctx_out is refused). */
	LIBBPF_OPTS(bpf_test_run_opts, t, .ctx_in = &a, .ctx_size_in = sizeof(a));
	int fd = bpf_program__fd(skel->progs.fuzz);
	__u64 n = 0, v;

	while (!stop) {
		memset(&a, 0, sizeof(a));
		a.op = 1;	/* update */
		a.key = 2 * OWN + rnd(&seed, OWN);
		v = tag(W_BPF, ++n);
		memcpy(skel->bss->vbuf, &v, sizeof(v));
		if (bpf_prog_test_run_opts(fd, &t) || a.ret)
			error("bpf update", a.ret ?: -errno);
		else
			st.last[a.key] = v;
		memset(&a, 0, sizeof(a));
		a.op = 0;	/* lookup */
		a.key = rnd(&seed, ENTRIES);
		a.vsize = 8;
		if (bpf_prog_test_run_opts(fd, &t) || a.ret) {
			error("bpf lookup", a.ret ?: -errno);
		} else {
			memcpy(&v, skel->bss->vbuf, sizeof(v));
			check_read(W_BPF, a.key, v, "bpf lookup");
		}
		atomic_fetch_add(&ops[W_BPF], 2);
	}
	return NULL;
}

/* BPF_F_CPU with @cpu in the upper half of the flags. */
static __u64 on_cpu(int cpu)
{
	return BPF_F_CPU | (__u64)cpu << 32;
}

/* Per-CPU copies read by w_percpu, their only writer: exactly what it last wrote. */
static void check_percpu(__u32 k, int cpu, __u64 v, const char *how)
{
	atomic_fetch_add(&checked, 1);
	if (v == st.plast[k][cpu])
		return;
	fprintf(stderr, "ERROR %s: percpu key %u cpu %d holds %#llx, last written %#llx\n", how, k,
		cpu, (unsigned long long)v, (unsigned long long)st.plast[k][cpu]);
	atomic_fetch_add(&errors, 1);
}

/*
 * The PERCPU_ARRAY's writer and reader: every CPU's copy a value of its own, one CPU's copy
 * (BPF_F_CPU) or one value for all (BPF_F_ALL_CPUS); all copies read, one (BPF_F_CPU), or the
 * whole map by lookup_batch.
 */
static void *w_percpu(void *arg)
{
	static __u64 vals[OWN * MAX_CPUS];
	static __u32 keys[OWN];
	unsigned int seed = 4;
	__u32 k, i, count;
	__u64 n = 0, flags;
	int c, cpu, ret;

	while (!stop) {
		k = rnd(&seed, OWN);
		cpu = rnd(&seed, st.ncpus);
		switch (rnd(&seed, 3)) {
		case 0:
			for (c = 0; c < st.ncpus; c++)
				vals[c] = tag(W_PERCPU, ++n);
			flags = BPF_ANY;
			break;
		case 1:
			vals[0] = tag(W_PERCPU, ++n);
			flags = on_cpu(cpu);
			break;
		default:
			vals[0] = tag(W_PERCPU, ++n);
			flags = BPF_F_ALL_CPUS;
			break;
		}
		if (bpf_map_update_elem(st.percpu, &k, vals, flags)) {
			error("percpu update", -errno);
		} else {
			for (c = 0; c < st.ncpus; c++)
				if (flags == BPF_ANY || flags == BPF_F_ALL_CPUS || c == cpu)
					st.plast[k][c] = vals[flags == BPF_ANY ? c : 0];
		}
		k = rnd(&seed, OWN);
		switch (rnd(&seed, 3)) {
		case 0:
			if (bpf_map_lookup_elem(st.percpu, &k, vals)) {
				error("percpu lookup", -errno);
				break;
			}
			for (c = 0; c < st.ncpus; c++)
				check_percpu(k, c, vals[c], "percpu lookup");
			break;
		case 1:
			if (bpf_map_lookup_elem_flags(st.percpu, &k, vals, on_cpu(cpu)))
				error("percpu lookup BPF_F_CPU", -errno);
			else
				check_percpu(k, cpu, vals[0], "percpu lookup BPF_F_CPU");
			break;
		default:
			count = OWN;
			ret = bpf_map_lookup_batch(st.percpu, NULL, &k, keys, vals, &count, NULL);
			if (ret) {
				error("percpu lookup_batch", -errno);
				break;
			}
			check_eq("percpu lookup_batch count", count, OWN);
			check_eq("percpu lookup_batch out_batch", k, OWN - 1);
			for (i = 0; i < count && i < OWN; i++) {
				check_eq("percpu lookup_batch key", keys[i], i);
				for (c = 0; c < st.ncpus; c++)
					check_percpu(i, c, vals[i * st.ncpus + c],
						     "percpu lookup_batch");
			}
			break;
		}
		atomic_fetch_add(&ops[W_PERCPU], 2);
	}
	return NULL;
}

static void lockval_set(struct lockval *l, __u64 v)
{
	*l = (struct lockval){ .x = v, .y = (__u32)v, .z = v, .w = v, .v = v };
}

static bool lockval_whole(const struct lockval *l)
{
	return l->y == (__u32)l->x && l->z == l->x && l->w == l->x && l->v == l->x;
}

static void *w_lockw(void *arg)
{
	unsigned int seed = 8;
	struct lockval l;
	__u64 n = 0, v;
	__u32 k;

	while (!stop) {
		k = rnd(&seed, LOCKED);
		v = tag(W_LOCKW, ++n);
		lockval_set(&l, v);
		if (bpf_map_update_elem(st.locked, &k, &l, BPF_F_LOCK))
			error("BPF_F_LOCK update", -errno);
		else
			st.llast[k] = v;
		atomic_fetch_add(&ops[W_LOCKW], 1);
	}
	return NULL;
}

static void *w_lockr(void *arg)
{
	unsigned int seed = 9;
	struct lockval l;
	__u32 k;

	while (!stop) {
		k = rnd(&seed, LOCKED);
		if (bpf_map_lookup_elem_flags(st.locked, &k, &l, BPF_F_LOCK)) {
			error("BPF_F_LOCK lookup", -errno);
		} else if (!lockval_whole(&l)) {
			fprintf(stderr, "ERROR key %u half written under BPF_F_LOCK: x %#llx y %#x z %#llx "
				"w %#llx v %#llx\n", k, (unsigned long long)l.x, l.y,
				(unsigned long long)l.z, (unsigned long long)l.w,
				(unsigned long long)l.v);
			atomic_fetch_add(&errors, 1);
		}
		atomic_fetch_add(&ops[W_LOCKR], 1);
	}
	return NULL;
}

static void *w_slots(void *arg)
{
	unsigned int seed = 5;
	__u32 k = 0;
	int ret;

	while (!stop) {
		if (rnd(&seed, 3)) {
			ret = bpf_map_update_elem(st.prog_array, &k, &st.prog[1 + rnd(&seed, 2)],
						  BPF_ANY);
			if (ret)
				error("prog_array update", -errno);
		} else if (bpf_map_delete_elem(st.prog_array, &k) && errno != ENOENT) {
			error("prog_array delete", -errno);
		}
		atomic_fetch_add(&ops[W_SLOTS], 1);
	}
	return NULL;
}

static void *w_tailcall(void *arg)
{
	char pkt[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));

	while (!stop) {
		if (bpf_prog_test_run_opts(st.caller, &t))
			error("tail call run", -errno);
		else if (t.retval < 1 || t.retval > 3)
			error("tail call result", t.retval);
		else if (t.retval > 1)
			atomic_fetch_add(&tail_taken, 1);
		atomic_fetch_add(&ops[W_TAILCALL], 1);
	}
	return NULL;
}

static void *w_perf(void *arg)
{
	size_t len = 2 * sysconf(_SC_PAGESIZE);
	unsigned int seed = 7;
	void *ring = NULL;
	int fd, map;
	__u32 k;

	while (!stop) {
		k = rnd(&seed, st.ncpus);
		fd = perf_open_sw(PERF_COUNT_SW_BPF_OUTPUT, -1, k);
		/* A CPU the suite took offline (percpu_offline_cpu) has no events. */
		if (fd < 0 && errno == ENODEV)
			continue;
		if (fd < 0) {
			error("perf_event_open", -errno);
			break;
		}
		/* The previous event's buffer goes now: until then, outputs to it may land. */
		if (ring)
			munmap(ring, len);
		ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (ring == MAP_FAILED) {
			error("perf ring buffer mmap", -errno);
			ring = NULL;
		}
		map = rnd(&seed, 4) ? st.perf_array : bpf_map_get_fd_by_id(st.perf_id);
		if (map < 0)
			error("perf_event_array fd by id", -errno);
		else if (bpf_map_update_elem(map, &k, &fd, BPF_ANY))
			error("perf_event_array update", -errno);
		/* The entry holds the event: its file closes while stored. */
		close(fd);
		/* A map file of its own: its release clears the entries stored through it. */
		if (map >= 0 && map != st.perf_array)
			close(map);
		atomic_fetch_add(&ops[W_PERF], 2);
	}
	if (ring)
		munmap(ring, len);
	return NULL;
}

/*
 * bpf_perf_event_output() to the current CPU's index: 0 when it landed in a ring buffer;
 * -ENOENT (no event there), -EOPNOTSUPP (another CPU's event: the slot changed) and -ENOSPC
 * (no buffer or a full one) are the races' outcomes; anything else is an error.
 */
static void *w_output(void *arg)
{
	char pkt[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));
	int ret;

	while (!stop) {
		if (bpf_prog_test_run_opts(st.output, &t)) {
			error("perf output run", -errno);
		} else {
			ret = (int)t.retval;
			if (!ret)
				atomic_fetch_add(&outputs, 1);
			else if (ret != -ENOENT && ret != -EOPNOTSUPP && ret != -ENOSPC)
				error("bpf_perf_event_output", ret);
		}
		atomic_fetch_add(&ops[W_OUTPUT], 1);
	}
	return NULL;
}

/*
 * bpf_tail_call(skb, &prog_array, skb->cb[0]); return 1. cb[0] is 0 in a test run, but the
 * verifier cannot know it, so the JIT emits an indirect tail call: each run reads the slot, as
 * the interpreter does, while w_slots changes it. A constant key would make it a direct jump
 * that every slot change re-patches in the JIT text; that race runs in make test's poke_race
 * part (tests/pokerace.c), in a single-threaded TCG boot: multi-threaded TCG, which this suite
 * runs on, executes the text being patched wrongly (Documentation/testing.rst).
 */
static int load_tail_caller_indirect(int prog_array)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_3, .src_reg = BPF_REG_1,
		  .off = offsetof(struct __sk_buff, cb[0]) },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = prog_array },
		{ 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return prog_load_insns(BPF_PROG_TYPE_SOCKET_FILTER, insns, sizeof(insns) / sizeof(insns[0]),
			       0, 0);
}

/*
 * A socket filter doing bpf_perf_event_output(ctx, @perf_array, BPF_F_CURRENT_CPU, &42, 8) and
 * returning its result.
 */
static int load_output(int perf_array)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -8, .imm = 42 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = perf_array },
		{ 0 },
		/* 32-bit: BPF_F_CURRENT_CPU is 0xffffffff, not -1. */
		{ .code = BPF_ALU | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = -1 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_4, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_4, .imm = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_5, .imm = 8 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_perf_event_output },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return prog_load_insns(BPF_PROG_TYPE_SOCKET_FILTER, insns, sizeof(insns) / sizeof(insns[0]),
			       0, 0);
}

/*
 * An iterator over a map of its own, closed last: the iterator's release drops the last
 * reference to the map (and through it to the module) while rmmod loops.
 */
static void *w_iter(void *arg)
{
	union bpf_iter_link_info info = {};
	char buf[64];
	int link, iter, map;

	while (!stop) {
		map = create(BPF_MAP_TYPE_ARRAY, 8, 16, 0);
		if (map < 0) {
			error("iter map", map);
			break;
		}
		info.map.map_fd = map;
		union bpf_attr a = {
			.link_create.prog_fd = st.iter_prog,
			.link_create.attach_type = BPF_TRACE_ITER,
			.link_create.iter_info = (unsigned long)&info,
			.link_create.iter_info_len = sizeof(info),
		};

		link = sys_bpf(BPF_LINK_CREATE, &a);
		if (link < 0) {
			error("iter link", link);
			close(map);
			break;
		}
		iter = bpf_iter_create(link);
		/* The link and the map go first: the iterator holds the map by itself. */
		close(link);
		close(map);
		if (iter < 0) {
			error("iter create", -errno);
			break;
		}
		if (read(iter, buf, sizeof(buf)) < 0)
			error("iter read", -errno);
		close(iter);
		atomic_fetch_add(&ops[W_ITER], 1);
	}
	return NULL;
}

/* Maps created and closed, with or without the module (the racer may have removed it). */
static void *w_churn(void *arg)
{
	static const enum bpf_map_type types[] = {
		BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PROG_ARRAY,
		BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_CGROUP_ARRAY,
	};
	unsigned int seed = 6;
	int fd, inner, outer;

	while (!stop) {
		enum bpf_map_type t = types[rnd(&seed, 5)];

		fd = create(t, t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY ? 8 : 4,
			    1 + rnd(&seed, 64), 0);
		if (fd < 0)
			error("churn create", fd);
		else
			close(fd);
		inner = create(BPF_MAP_TYPE_ARRAY, 8, 4, 0);
		outer = inner < 0 ? inner : create(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, inner);
		if (outer < 0) {
			error("churn create array_of_maps", outer);
		} else {
			__u32 k = rnd(&seed, 4);

			if (bpf_map_update_elem(outer, &k, &inner, BPF_ANY))
				error("churn array_of_maps update", -errno);
			close(outer);
		}
		if (inner >= 0)
			close(inner);
		atomic_fetch_add(&ops[W_CHURN], 3);
	}
	return NULL;
}

/* rmmod while the module serves maps must fail; with none alive it may win: insmod again. */
static void *w_rmmod(void *arg)
{
	int ret;

	while (!stop) {
		atomic_fetch_add(&rmmod_tries, 1);
		ret = module_try_remove();
		if (!ret) {
			atomic_fetch_add(&rmmod_wins, 1);
			if (survivors_alive) {
				fprintf(stderr, "ERROR rmmod succeeded while the module served maps\n");
				atomic_fetch_add(&rmmod_won_alive, 1);
				atomic_fetch_add(&errors, 1);
			}
			ret = module_insert();
			if (ret)
				error("insmod after a won rmmod", ret);
		} else if (ret != -EWOULDBLOCK && ret != -ENOENT) {
			error("rmmod", ret);
		}
		atomic_fetch_add(&ops[W_RMMOD], 1);
		usleep(2000);
	}
	return NULL;
}

/* --- rounds ---------------------------------------------------------------------------------- */

static void *(*const fn[W_NR])(void *) = {
	w_syscall, w_batch, w_bpf, w_percpu, w_lockw, w_lockr, w_slots, w_tailcall, w_perf,
	w_output, w_iter, w_churn, w_rmmod,
};

static int join(pthread_t *t, int from, int to)
{
	int i;

	for (i = from; i < to; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int start(pthread_t *t, int i, void *arg)
{
	if (pthread_create(&t[i], NULL, fn[i], arg)) {
		error("pthread_create", -errno);
		return -1;
	}
	return 0;
}

/* The survivors hold what their last writers wrote: 0 lost values, or the count of others. */
static long check_values(void)
{
	__u64 v = 0, pv[MAX_CPUS];
	struct lockval l;
	long lost = 0;
	__u32 k;
	int c;

	for (k = 0; k < ENTRIES; k++) {
		if (bpf_map_lookup_elem(st.array, &k, &v) || v != st.last[k]) {
			fprintf(stderr, "LOST array key %u: %#llx, last written %#llx\n", k,
				(unsigned long long)v, (unsigned long long)st.last[k]);
			lost++;
		}
	}
	for (k = 0; k < OWN; k++) {
		if (bpf_map_lookup_elem(st.percpu, &k, pv)) {
			lost++;
			continue;
		}
		for (c = 0; c < st.ncpus; c++)
			if (pv[c] != st.plast[k][c]) {
				fprintf(stderr, "LOST percpu key %u cpu %d: %#llx, last written %#llx\n",
					k, c, (unsigned long long)pv[c],
					(unsigned long long)st.plast[k][c]);
				lost++;
			}
	}
	for (k = 0; k < LOCKED; k++) {
		memset(&l, 0, sizeof(l));
		if (bpf_map_lookup_elem_flags(st.locked, &k, &l, BPF_F_LOCK) || l.x != st.llast[k] ||
		    !lockval_whole(&l)) {
			fprintf(stderr, "LOST locked key %u: %#llx, last written %#llx\n", k,
				(unsigned long long)l.x, (unsigned long long)st.llast[k]);
			lost++;
		}
	}
	return lost;
}

/* close(@fd) if it is one. */
static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int round_run(long *lost)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	struct fuzz *skel = NULL;
	pthread_t t[W_NR];
	int i, ret = -1;

	ret = module_loaded() ? 0 : module_insert();
	if (ret)
		return error("insmod", ret), -1;
	ret = -1;
	memset(st.last, 0, sizeof(st.last));
	memset(st.plast, 0, sizeof(st.plast));
	memset(st.llast, 0, sizeof(st.llast));
	st.caller = st.output = -1;
	st.array = create(BPF_MAP_TYPE_ARRAY, 8, ENTRIES, 0);
	st.percpu = create(BPF_MAP_TYPE_PERCPU_ARRAY, 8, OWN, 0);
	st.locked = create_map(BPF_MAP_TYPE_ARRAY, sizeof(struct lockval), LOCKED, 0, 0, st.btf,
			       T_LOCKVAL);
	st.prog_array = create(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 0);
	st.perf_array = create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, st.ncpus, 0);
	if (st.array < 0 || st.percpu < 0 || st.locked < 0 || st.prog_array < 0 ||
	    st.perf_array < 0) {
		error("creating the survivors", -1);
		goto out;
	}
	if (bpf_map_get_info_by_fd(st.perf_array, &info, &info_len)) {
		error("perf_event_array info", -errno);
		goto out;
	}
	st.perf_id = info.id;
	st.caller = load_tail_caller_indirect(st.prog_array);
	if (st.caller < 0) {
		error("loading the tail caller", st.caller);
		goto out;
	}
	st.output = load_output(st.perf_array);
	if (st.output < 0) {
		error("loading the perf output program", st.output);
		goto out;
	}
	skel = fuzz__open();
	if (!skel) {
		error("opening the fuzz skeleton", -errno);
		goto out;
	}
	i = bpf_map__reuse_fd(skel->maps.target, st.array) ?:
	    bpf_program__set_autoload(skel->progs.fuzz_percpu, false) ?: fuzz__load(skel);
	if (i) {
		error("loading the fuzz skeleton", i);
		goto out;
	}
	/* Each survivor is the module's (fdinfo's ops_owner), not merely some map. */
	{
		const int survivors[] = { st.array, st.percpu, st.locked, st.prog_array, st.perf_array };

		for (i = 0; i < (int)(sizeof(survivors) / sizeof(survivors[0])); i++)
			if (!served_by_module(survivors[i])) {
				error("the module does not serve survivor", i);
				goto out;
			}
	}
	survivors_alive = true;
	stop = false;
	for (i = 0; i < W_NR; i++) {
		if (start(t, i, i == W_BPF ? skel : NULL)) {
			stop = true;
			join(t, 0, i);
			goto out;
		}
	}
	sleep(st.round - 1);
	stop = true;
	join(t, 0, W_NR);
	*lost += check_values();
	ret = 0;
out:
	/* Whatever was made, also on the way out of a failure (fuzz__destroy() takes NULL). */
	fuzz__destroy(skel);
	close_fd(st.caller);
	close_fd(st.output);
	close_fd(st.array);
	close_fd(st.percpu);
	close_fd(st.locked);
	close_fd(st.prog_array);
	close_fd(st.perf_array);
	survivors_alive = false;
	if (ret)
		return ret;
	/* Nothing of ours alive: creation against rmmod and insmod. */
	stop = false;
	for (i = W_ITER; i <= W_RMMOD; i++) {
		if (start(t, i, NULL)) {
			stop = true;
			join(t, W_ITER, i);
			return -1;
		}
	}
	sleep(1);
	stop = true;
	join(t, W_ITER, W_RMMOD + 1);
	return 0;
}

/* Every map closed: rmmod must succeed once they are freed (RCU, work items). */
static int final_rmmod(void)
{
	int ret = module_remove_wait();

	if (!ret || ret == -ENOENT)
		return 0;
	error("rmmod with every map closed", ret);
	return -1;
}

int main(int argc, char **argv)
{
	long lost = 0, total = 0;
	time_t start_time = time(NULL);
	int c, rounds = 0, final_ok = 0, id;

	setvbuf(stdout, NULL, _IOLBF, 0);
	st.ko = getenv("KO");
	st.seconds = 60;
	st.round = 5;
	while ((c = getopt(argc, argv, "t:r:k:")) != -1) {
		switch (c) {
		case 't': st.seconds = atoi(optarg); break;
		case 'r': st.round = atoi(optarg); break;
		case 'k': st.ko = optarg; break;
		default:
			fprintf(stderr, "usage: stress [-t SECONDS] [-r ROUND_SECONDS] [-k KO]\n");
			return 2;
		}
	}
	if (!st.ko || st.round < 2 || st.seconds < st.round) {
		fprintf(stderr, "stress: needs -k KO (or $KO) and -t >= -r >= 2\n");
		return 2;
	}
	libbpf_set_print(NULL);
	st.ncpus = libbpf_num_possible_cpus();
	if (st.ncpus < 1 || st.ncpus > MAX_CPUS)
		return fprintf(stderr, "%d possible CPUs: not supported\n", st.ncpus), 1;
	st.btf = test_btf_load();
	if (st.btf < 0)
		return fprintf(stderr, "BTF load failed\n"), 1;
	for (c = 0; c < 3; c++)
		st.prog[c] = prog_load_ret(c + 1, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0);
	id = libbpf_find_vmlinux_btf_id("bpf_map_elem", BPF_TRACE_ITER);
	st.iter_prog = id > 0 ? prog_load_ret(0, BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, id) : -1;
	if (st.prog[0] < 0 || st.prog[1] < 0 || st.prog[2] < 0 || st.iter_prog < 0)
		return fprintf(stderr, "loading the programs failed\n"), 1;
	while (time(NULL) - start_time + st.round <= st.seconds && !errors) {
		if (round_run(&lost))
			break;
		rounds++;
		final_ok += !final_rmmod();
	}
	for (c = 0; c < W_NR; c++)
		total += ops[c];
	printf("# ops per kind:");
	for (c = 0; c < W_NR; c++)
		printf("%s %s %ld", c ? "," : "", wname[c], (long)ops[c]);
	/* A PROG_ARRAY that never dispatched would pass the result check alone, and so would a
	 * PERF_EVENT_ARRAY whose events were never found.
	 */
	if (rounds && !tail_taken) {
		fprintf(stderr, "ERROR no tail call was taken\n");
		atomic_fetch_add(&errors, 1);
	}
	if (rounds && !outputs) {
		fprintf(stderr, "ERROR no perf output landed\n");
		atomic_fetch_add(&errors, 1);
	}
	if (rounds && !checked) {
		fprintf(stderr, "ERROR no value read was checked\n");
		atomic_fetch_add(&errors, 1);
	}
	printf("\n%lds, %d threads, %d rounds, %ld ops, %ld reads and counts checked, "
	       "tail calls taken %ld, perf outputs %ld, "
	       "rmmod tries %ld, won %ld (with maps alive %ld), insmod %ld, "
	       "rmmod after each round %d/%d, %ld errors, %ld lost values\n",
	       (long)(time(NULL) - start_time), W_NR, rounds, total, (long)checked,
	       (long)tail_taken, (long)outputs, (long)rmmod_tries, (long)rmmod_wins,
	       (long)rmmod_won_alive, (long)insmods, final_ok, rounds, (long)errors, lost);
	return errors || lost || !rounds || final_ok != rounds;
}

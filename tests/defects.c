// SPDX-License-Identifier: GPL-2.0
/*
 * defects: the triggers of arraymap.c's historic defects, each checked for the fixed
 * behaviour (Documentation/historic-defects.rst has the table: fix, CVE, what each case does,
 * the defect put back into the module on purpose that it was seen to catch). Like the other
 * probes it exercises whatever serves the types right now, and the suite compares the output
 * of the built-in C maps and the module's.
 *
 *   defects all             every case below, in this order
 *   defects CASE            one of them:
 *     tailcall_mask         b2157399cc98: a PROG_ARRAY of 5 made without CAP_PERFMON; the
 *                           tail call's index masked with 7, each key reaching its own slot
 *     rdonly_helper         32556ce93bc4: bpf_strtol() writing into a BPF_F_RDONLY_PROG value
 *                           refused at load; into a plain or frozen one, allowed
 *     freeze_race           353050be4c19: BPF_MAP_FREEZE of a read-only value while another
 *                           thread updates it: a program verified after the freeze (the value
 *                           read as a constant) agrees with the value
 *     lock_timer            a8abb0c3dc1e: a value with a timer and a spin lock updated with
 *                           all-ones bytes, from user space, with and without BPF_F_LOCK
 *     timer_cancel          0281b919e175, a6fcd19d7eac, d4523831f07a: a callback cancelling
 *                           its own timer; a self-re-arming timer gone with the map's last fd
 *     kptr_update           a3a81d247651: a referenced kptr survives updates of its element
 *     inner_template        53040a81ae57: lookups past a smaller inner array through a
 *                           BPF_F_INNER_MAP template
 *     percpu_sleepable      d4965578267e: bpf_map_lookup_percpu_elem() from a sleepable
 *                           program, JIT on and off
 *     tailcall_compat       28ead3eaabc1, 4540aed51b12, 10627ddc0167, abad3d0bad72: programs a
 *                           PROG_ARRAY's owner is not compatible with refused by an update
 *     poke_untrack          f263a81451c1: a program whose subprogram tail-calls directly
 *                           freed before its PROG_ARRAY; the array's slots changed 100 times
 *                           after, another such program following each change
 *     fd_refs               92117d8443bc: one program and one map in 33,000 slots each (past
 *                           the 2016 limit of 32,768 references), all released with the arrays
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "defects.skel.h"
#include "common.h"
#include "xlated.h"

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ST_W(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_W, d, 0, o, i)
#define STX_DW(d, s, o) INSN(BPF_STX | BPF_MEM | BPF_DW, d, s, o, 0)
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define LD_MAP(d, fd) INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* test_run of @prog_fd on a 64-byte packet (XDP, socket filter) or no context (syscall). */
static int run_pkt(int prog_fd, int with_packet)
{
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (with_packet) {
		opts.data_in = pkt;
		opts.data_size_in = sizeof(pkt);
	}
	return bpf_prog_test_run_opts(prog_fd, &opts) ? -errno : (int)opts.retval;
}

/* Whether the object of @id (a map, or a program with @prog) exists. */
static int exists(__u32 id, int prog)
{
	int fd = prog ? bpf_prog_get_fd_by_id(id) : bpf_map_get_fd_by_id(id);

	if (fd >= 0)
		close(fd);
	return fd >= 0 || errno != ENOENT;
}

/* Whether the object of @id is gone, waiting up to 10 s for its deferred release. */
static int gone(__u32 id, int prog)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (!exists(id, prog))
			return 1;
		sleep_ms(20);
	}
	return 0;
}

/* A program of @type that returns @ret. */
static int load_ret(enum bpf_prog_type type, int ret, enum bpf_attach_type attach, __u32 flags)
{
	const struct bpf_insn insns[] = { MOV64_IMM(BPF_REG_0, ret), EXIT };

	return prog_load_log(type, insns, ARRAY_SIZE(insns), attach, 0, flags, NULL, 0);
}

/* --- b2157399cc98 ------------------------------------------------------------------------- */

/* In a child without CAP_PERFMON and CAP_SYS_ADMIN: a PROG_ARRAY of @entries, pinned at @pin. */
static int create_unpriv_prog_array(const char *pin, __u32 entries)
{
	cap_value_t drop[] = { CAP_PERFMON, CAP_SYS_ADMIN };
	int status, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		cap_t caps = cap_get_proc();

		if (!caps || cap_set_flag(caps, CAP_EFFECTIVE, 2, drop, CAP_CLEAR) ||
		    cap_set_flag(caps, CAP_PERMITTED, 2, drop, CAP_CLEAR) || cap_set_proc(caps))
			_exit(2);
		fd = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, entries, 0, 0, 0, 0);
		_exit(fd < 0 || bpf_obj_pin(fd, pin) ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -EPERM;
	fd = bpf_obj_get(pin);
	unlink(pin);
	return fd < 0 ? -errno : fd;
}

static int tailcall_mask(void)
{
	const char *pin = "/sys/fs/bpf/defects_jmp";
	struct bpf_insn xl[64];
	__u32 i, key;
	int jmp, keys, caller, target, zero = 0, masks = 0, n;

	unlink(pin);
	jmp = create_unpriv_prog_array(pin, 5);
	keys = create_map(BPF_MAP_TYPE_ARRAY, 4, 1, 0, 0, 0, 0);
	if (jmp < 0 || keys < 0) {
		printf("tailcall_mask: maps: %s %s\n", res(jmp), res(keys));
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	for (i = 0; i < 5; i++) {
		target = load_ret(BPF_PROG_TYPE_SOCKET_FILTER, 100 + i, 0, 0);
		CHECK(target >= 0 && !bpf_map_update_elem(jmp, &i, &target, BPF_ANY), "slot %u", i);
		close(target);
	}
	{
		/* r3 = keys[0]; bpf_tail_call(ctx, jmp, r3); return 1 */
		const struct bpf_insn insns[] = {
			MOV64_REG(BPF_REG_6, BPF_REG_1),
			ST_W(BPF_REG_10, -4, 0),
			MOV64_REG(BPF_REG_2, BPF_REG_10),
			ADD64_IMM(BPF_REG_2, -4),
			LD_MAP(BPF_REG_1, keys),
			CALL(BPF_FUNC_map_lookup_elem),
			JEQ_IMM(BPF_REG_0, 0, 5),
			LDX_W(BPF_REG_3, BPF_REG_0, 0),
			MOV64_REG(BPF_REG_1, BPF_REG_6),
			LD_MAP(BPF_REG_2, jmp),
			CALL(BPF_FUNC_tail_call),
			MOV64_IMM(BPF_REG_0, 1),
			EXIT,
		};

		caller = prog_load_log(BPF_PROG_TYPE_SOCKET_FILTER, insns, ARRAY_SIZE(insns), 0, 0, 0,
				       NULL, 0);
	}
	if (caller < 0) {
		printf("tailcall_mask: caller: %s\n", res(caller));
		return 1;
	}
	n = get_xlated(caller, xl, ARRAY_SIZE(xl));
	CHECK(n >= 0, "xlated: %s", res(n));
	for (i = 0; (int)i < n; i++)
		if (xl[i].code == (BPF_ALU | BPF_AND | BPF_K) && xl[i].dst_reg == BPF_REG_3) {
			printf("tailcall_mask: the tail call's index masked with %d\n", xl[i].imm);
			masks++;
		}
	CHECK(masks == 1, "%d masks of the index", masks);
	for (key = 0; key < 8; key++) {
		int ret;

		bpf_map_update_elem(keys, &zero, &key, BPF_ANY);
		ret = run_pkt(caller, 1);
		printf("tailcall_mask: key %u -> %d\n", key, ret);
		CHECK(ret == (key < 5 ? 100 + (int)key : 1), "key %u reached %d", key, ret);
	}
	close(caller);
	close(keys);
	close(jmp);
	return 0;
}

/* --- 32556ce93bc4 ------------------------------------------------------------------------- */

/* Loads "bpf_strtol("42", 3, 0, &value of map[0])" into a socket filter: fd or -errno. */
static int load_strtol_into(int map, char *log, size_t log_size)
{
	const struct bpf_insn insns[] = {
		MOV64_IMM(BPF_REG_1, 0x3234), /* "42\0" */
		STX_DW(BPF_REG_10, BPF_REG_1, -8),
		ST_W(BPF_REG_10, -12, 0),
		MOV64_REG(BPF_REG_2, BPF_REG_10),
		ADD64_IMM(BPF_REG_2, -12),
		LD_MAP(BPF_REG_1, map),
		CALL(BPF_FUNC_map_lookup_elem),
		JEQ_IMM(BPF_REG_0, 0, 6),
		MOV64_REG(BPF_REG_4, BPF_REG_0),
		MOV64_REG(BPF_REG_1, BPF_REG_10),
		ADD64_IMM(BPF_REG_1, -8),
		MOV64_IMM(BPF_REG_2, 3),
		MOV64_IMM(BPF_REG_3, 0),
		CALL(BPF_FUNC_strtol),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT,
	};

	return prog_load_log(BPF_PROG_TYPE_SOCKET_FILTER, insns, ARRAY_SIZE(insns), 0, 0, 0, log,
			     log_size);
}

static int rdonly_helper(void)
{
	static char log[65536];
	const char *how[] = { "BPF_F_RDONLY_PROG", "plain", "frozen" };
	int i;

	for (i = 0; i < 3; i++) {
		int map = create_map(BPF_MAP_TYPE_ARRAY, 8, 1, i ? 0 : BPF_F_RDONLY_PROG, 0, 0, 0);
		int k = 0, prog;
		long long v = -1;
		char *line;

		if (map < 0) {
			printf("rdonly_helper: create: %s\n", res(map));
			return 1;
		}
		if (i == 2)
			CHECK(!bpf_map_freeze(map), "freeze: %s", strerror(errno));
		log[0] = 0;
		prog = load_strtol_into(map, log, sizeof(log));
		line = strstr(log, "write into map forbidden");
		if (line)
			*strchrnul(line, '\n') = 0;
		printf("rdonly_helper: strtol into a %s value: load %s%s%s\n", how[i], res(prog),
		       line ? ", " : "", line ? line : "");
		if (prog >= 0) {
			CHECK(run_pkt(prog, 1) == 0, "run");
			CHECK(!bpf_map_lookup_elem(map, &k, &v), "lookup");
			printf("rdonly_helper: value written by the helper: %lld\n", v);
			close(prog);
		}
		CHECK(i ? prog >= 0 && v == 42 : prog == -EACCES && line, "%s", how[i]);
		close(map);
	}
	return 0;
}

/* --- 353050be4c19 ------------------------------------------------------------------------- */

struct writer {
	int map;
	volatile unsigned int seq;
	int err;
};

static void *write_until_refused(void *arg)
{
	struct writer *w = arg;
	static __thread unsigned int val[1024];
	int k = 0;

	for (;;) {
		val[0] = w->seq + 1;
		if (bpf_map_update_elem(w->map, &k, val, BPF_ANY)) {
			w->err = errno;
			return NULL;
		}
		w->seq++;
	}
}

/*
 * "r0 = *(u32 *)value; return r0 == @k ? 2 : 1" on the one value of @map: a frozen
 * BPF_F_RDONLY_PROG value the verifier reads as a constant, hard-wiring the branch.
 */
static int load_compare(int map, unsigned int k)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_VALUE, 0, map),
		INSN(0, 0, 0, 0, 0),
		LDX_W(BPF_REG_0, BPF_REG_1, 0),
		JEQ_IMM(BPF_REG_0, (int)k, 2),
		MOV64_IMM(BPF_REG_0, 1),
		EXIT,
		MOV64_IMM(BPF_REG_0, 2),
		EXIT,
	};

	return prog_load_log(BPF_PROG_TYPE_SOCKET_FILTER, insns, ARRAY_SIZE(insns), 0, 0, 0, NULL,
			     0);
}

/* Whether the verifier hard-wired the branch of @prog's comparison: no BPF_JEQ left. */
static int hard_wired(int prog)
{
	struct bpf_insn xl[16];
	int i, n = get_xlated(prog, xl, ARRAY_SIZE(xl));

	if (n < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (xl[i].code == (BPF_JMP | BPF_JEQ | BPF_K))
			return 0;
	return 1;
}

/*
 * The fix counts syscall writers in flight, and the verifier reads a frozen read-only value as
 * a constant only when none is: a write that passed its check before the freeze may still land
 * after it (the freeze does not wait), but never after a program was verified against the
 * value. So a program loaded right after the freeze, run once the writer is done, must agree
 * with the value then.
 */
static int freeze_race(void)
{
	static unsigned int seen[1024], now[1024];
	int r, stale = 0, refused = 0, wired = 0, k = 0;

	for (r = 0; r < 50; r++) {
		struct writer w = {
			.map = create_map(BPF_MAP_TYPE_ARRAY, 4096, 1, BPF_F_RDONLY_PROG, 0, 0, 0),
		};
		pthread_t t;
		int prog, ret;

		if (w.map < 0 || pthread_create(&t, NULL, write_until_refused, &w))
			return 1;
		if (!r)
			fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
		while (w.seq < 20 && !w.err)
			sched_yield();
		while (bpf_map_freeze(w.map) && errno == EBUSY)
			;
		CHECK(!bpf_map_lookup_elem(w.map, &k, seen), "lookup");
		prog = load_compare(w.map, seen[0]);
		pthread_join(t, NULL);
		CHECK(!bpf_map_lookup_elem(w.map, &k, now), "lookup");
		ret = run_pkt(prog, 1);
		CHECK(prog >= 0, "load: %s", res(prog));
		wired += hard_wired(prog);
		stale += ret != (now[0] == seen[0] ? 2 : 1);
		refused += w.err == EPERM;
		close(prog);
		close(w.map);
	}
	printf("freeze_race: 50 freezes of a read-only value while a thread updates it: programs "
	       "verified after the freeze that disagree with the value: %d; writers refused with "
	       "EPERM: %d; the value taken as a constant: %s\n", stale, refused,
	       wired ? "yes" : "never");
	/* Most programs see no writer in flight: without a constant, nothing is tested. */
	CHECK(!stale && refused == 50 && wired, "freeze");
	return 0;
}

/* --- a8abb0c3dc1e ------------------------------------------------------------------------- */

static int lock_timer(void)
{
	struct defects *skel = defects__open_and_load();
	unsigned char ones[32], out[32];
	int fd, k, i, ret;
	char hex[65];

	if (!skel) {
		perror("defects__open_and_load");
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	fd = bpf_map__fd(skel->maps.lock_timer);
	skel->bss->lt_delay_ns = 200 * 1000 * 1000;
	ret = run_pkt(bpf_program__fd(skel->progs.lt_arm), 1);
	printf("lock_timer: timer of element 0 armed: %d\n", ret);
	memset(ones, 0xff, sizeof(ones));
	k = 0;
	ret = bpf_map_update_elem(fd, &k, ones, BPF_ANY);
	printf("lock_timer: update 0 with all-ones bytes: %s\n", res(ret ? -errno : 0));
	k = 1;
	ret = bpf_map_update_elem(fd, &k, ones, BPF_F_LOCK);
	printf("lock_timer: update 1 with all-ones bytes, BPF_F_LOCK: %s\n", res(ret ? -errno : 0));
	for (k = 0; k < 2; k++) {
		CHECK(!bpf_map_lookup_elem(fd, &k, out), "lookup %d", k);
		for (i = 0; i < 32; i++)
			sprintf(hex + 2 * i, "%02x", out[i]);
		printf("lock_timer: element %d: %s\n", k, hex);
	}
	sleep_ms(300);
	printf("lock_timer: the overwritten element's timer fired: %d\n", skel->bss->lt_fired);
	ret = run_pkt(bpf_program__fd(skel->progs.lt_use), 1);
	printf("lock_timer: both locks taken, timer cancelled: run %d, cancel %ld\n", ret,
	       skel->bss->lt_cancel);
	CHECK(skel->bss->lt_fired == 0 && ret == 0, "fired %d, run %d", skel->bss->lt_fired, ret);
	defects__destroy(skel);
	return 0;
}

/* --- 0281b919e175, a6fcd19d7eac, d4523831f07a --------------------------------------------- */

struct tc_val {
	char t[16];
	__u64 fired;
	long cancel;
	int key;
};

static int timer_cancel(void)
{
	struct defects *skel = defects__open_and_load();
	struct tc_val v = {};
	int k = 2, ret, freed;
	__u32 id;

	if (!skel)
		return 1;
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	ret = run_pkt(bpf_program__fd(skel->progs.tc_arm), 1);
	sleep_ms(500);
	CHECK(!bpf_map_lookup_elem(bpf_map__fd(skel->maps.self_cancel), &k, &v), "lookup");
	printf("timer_cancel: armed %d; callback ran %llu time(s), key %d, cancel of its own timer %ld\n",
	       ret, (unsigned long long)v.fired, v.key, v.cancel);
	CHECK(v.fired == 1 && v.key == 2 && v.cancel == -EDEADLK, "callback");
	defects__destroy(skel);

	skel = defects__open_and_load();
	if (!skel)
		return 1;
	skel->bss->tc_rearm = 1;
	ret = run_pkt(bpf_program__fd(skel->progs.tc_arm), 1);
	sleep_ms(50);
	id = map_id(bpf_map__fd(skel->maps.self_cancel));
	defects__destroy(skel);
	freed = gone(id, 0);
	printf("timer_cancel: a self-re-arming timer (armed %d): map freed after its last fd: %s\n",
	       ret, freed ? "yes" : "no");
	CHECK(freed, "map %u still alive", id);
	return 0;
}

/* --- a3a81d247651 ------------------------------------------------------------------------- */

static int kptr_update(void)
{
	struct defects *skel = defects__open_and_load();
	struct { __u64 cg, data; } zero = {};
	int k = 1, ret, fd;

	if (!skel)
		return 1;
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	fd = bpf_map__fd(skel->maps.kptrs);
	skel->bss->kp_cgid = 1; /* the root cgroup */
	ret = run_pkt(bpf_program__fd(skel->progs.kp_store), 0);
	run_pkt(bpf_program__fd(skel->progs.kp_probe), 0);
	printf("kptr_update: cgroup stored %d, held %d\n", ret, skel->bss->kp_present);
	ret = bpf_map_update_elem(fd, &k, &zero, BPF_ANY) ? -errno : 0;
	run_pkt(bpf_program__fd(skel->progs.kp_probe), 0);
	printf("kptr_update: after a syscall update (%s): held %d\n", res(ret), skel->bss->kp_present);
	CHECK(skel->bss->kp_present == 1, "kptr freed by a syscall update");
	ret = run_pkt(bpf_program__fd(skel->progs.kp_update), 0);
	run_pkt(bpf_program__fd(skel->progs.kp_probe), 0);
	printf("kptr_update: after a program's update (%d): held %d\n", ret, skel->bss->kp_present);
	CHECK(skel->bss->kp_present == 1, "kptr freed by a program's update");
	defects__destroy(skel);
	return 0;
}

/* --- 53040a81ae57 ------------------------------------------------------------------------- */

static int inner_template(void)
{
	struct defects *skel = defects__open_and_load();
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	__u32 keys[] = { 0, 1, 2, 5, 7 }, k;
	int inner, zero = 0, i;
	__u64 v;

	if (!skel)
		return 1;
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "small_inner", 4, 8, 2, &opts);
	CHECK(inner >= 0, "inner: %s", strerror(errno));
	for (k = 0; k < 2; k++) {
		v = 10 + k;
		bpf_map_update_elem(inner, &k, &v, BPF_ANY);
	}
	k = bpf_map_update_elem(bpf_map__fd(skel->maps.outer_any), &zero, &inner, BPF_ANY);
	printf("inner_template: a 2-entry inner array under an 8-entry template: %s\n",
	       res(k ? -errno : 0));
	for (i = 0; i < (int)ARRAY_SIZE(keys); i++) {
		skel->bss->in_key = keys[i];
		CHECK(run_pkt(bpf_program__fd(skel->progs.in_lookup), 0) == 0, "run");
		printf("inner_template: key %u: found %d, value %llu\n", keys[i], skel->bss->in_found,
		       (unsigned long long)skel->bss->in_value);
		CHECK(skel->bss->in_found == (keys[i] < 2), "key %u", keys[i]);
	}
	close(inner);
	defects__destroy(skel);
	return 0;
}

/* --- d4965578267e ------------------------------------------------------------------------- */

static int jit_enable(const char *v)
{
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "w");
	int ret;

	if (!f)
		return -errno;
	ret = fputs(v, f) < 0;
	return fclose(f) || ret ? -EIO : 0;
}

static int percpu_sleepable(void)
{
	int ncpus = libbpf_num_possible_cpus(), pass, cpu;
	const char *how[] = { "JIT on", "JIT off" };

	for (pass = 0; pass < 2; pass++) {
		struct bpf_program *prog;
		struct defects *skel;
		__u64 vals[64];
		__u32 k = 1;

		if (ncpus > 64)
			return 1;
		skel = defects__open();
		if (!skel)
			return 1;
		/* Only this program: timer callbacks and tail calls in subprograms need the JIT. */
		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_autoload(prog, prog == skel->progs.pc_lookup);
		if (pass)
			CHECK(!jit_enable("0"), "bpf_jit_enable=0");
		if (defects__load(skel)) {
			defects__destroy(skel);
			skel = NULL;
		}
		if (pass)
			CHECK(!jit_enable("1"), "bpf_jit_enable=1");
		if (!skel)
			return 1;
		fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
		for (cpu = 0; cpu < ncpus; cpu++)
			vals[cpu] = 100 + cpu;
		CHECK(!bpf_map_update_elem(bpf_map__fd(skel->maps.pcpu), &k, vals, BPF_ANY), "update");
		CHECK(run_pkt(bpf_program__fd(skel->progs.pc_lookup), 0) == 0, "run");
		printf("percpu_sleepable: %s: cpu 0..3: %lld %lld %lld %lld\n", how[pass],
		       (long long)skel->bss->pc_seen[0], (long long)skel->bss->pc_seen[1],
		       (long long)skel->bss->pc_seen[2], (long long)skel->bss->pc_seen[3]);
		for (cpu = 0; cpu < 4; cpu++)
			CHECK(skel->bss->pc_seen[cpu] == (cpu < ncpus ? 100 + cpu : -1), "cpu %d", cpu);
		defects__destroy(skel);
	}
	return 0;
}

/* --- 28ead3eaabc1, 4540aed51b12, 10627ddc0167, abad3d0bad72 ------------------------------- */

/* The owner a PROG_ARRAY's fdinfo names, if any. */
static void print_owner(int fd)
{
	char type[16], jited[16];

	if (fdinfo_value(fd, "owner_prog_type", type, sizeof(type)) == 1 &&
	    fdinfo_value(fd, "owner_jited", jited, sizeof(jited)) == 1)
		printf("tailcall_compat:   fdinfo's owner: prog type %s, jited %s\n", type, jited);
	else
		printf("tailcall_compat:   fdinfo's owner: none\n");
}

static int tailcall_compat(void)
{
	static const struct {
		const char *what;
		enum bpf_prog_type type;
		enum bpf_attach_type attach;
		__u32 flags;
	} owner[] = {
		{ "cgroup_skb ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, 0 },
		{ "xdp", BPF_PROG_TYPE_XDP, 0, 0 },
		{ "socket filter", BPF_PROG_TYPE_SOCKET_FILTER, 0, 0 },
	}, cand[] = {
		{ "cgroup_skb egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, 0 },
		{ "xdp with frags", BPF_PROG_TYPE_XDP, 0, BPF_F_XDP_HAS_FRAGS },
		{ "sched_cls", BPF_PROG_TYPE_SCHED_CLS, 0, 0 },
	};
	__u32 i, k;

	for (i = 0; i < ARRAY_SIZE(owner); i++) {
		int map = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 2, 0, 0, 0, 0), o, c, ret;

		o = load_ret(owner[i].type, 0, owner[i].attach, owner[i].flags);
		c = load_ret(cand[i].type, 0, cand[i].attach, cand[i].flags);
		if (map < 0 || o < 0 || c < 0) {
			printf("tailcall_compat: %s: %s %s %s\n", owner[i].what, res(map), res(o),
			       res(c));
			return 1;
		}
		if (!i)
			fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
		k = 0;
		ret = bpf_map_update_elem(map, &k, &o, BPF_ANY) ? -errno : 0;
		printf("tailcall_compat: owner %s: %s\n", owner[i].what, res(ret));
		k = 1;
		ret = bpf_map_update_elem(map, &k, &c, BPF_ANY) ? -errno : 0;
		printf("tailcall_compat: then %s: %s\n", cand[i].what, res(ret));
		CHECK(ret == -EINVAL, "%s accepted", cand[i].what);
		ret = bpf_map_update_elem(map, &k, &o, BPF_ANY) ? -errno : 0;
		printf("tailcall_compat: then the owner again: %s\n", res(ret));
		print_owner(map);
		close(c);
		close(o);
		close(map);
	}
	return 0;
}

/* --- f263a81451c1 ------------------------------------------------------------------------- */

/* Opens and loads the probe's object with its poke_jmp replaced by the PROG_ARRAY @jmp. */
static struct defects *load_with_jmp(int jmp)
{
	struct defects *skel = defects__open();

	if (!skel)
		return NULL;
	if (bpf_map__reuse_fd(skel->maps.poke_jmp, jmp) || defects__load(skel)) {
		defects__destroy(skel);
		return NULL;
	}
	return skel;
}

/*
 * One round of slot changes, from slot 1 empty: slot 0 to t2, then t0, then empty; slot 1 to
 * t1, then empty; what @caller returns after each of the first four.
 */
static void poke_round(int jmp, const int *t, int caller, int *got)
{
	__u32 k0 = 0, k1 = 1;

	bpf_map_delete_elem(jmp, &k1);
	bpf_map_update_elem(jmp, &k0, &t[2], BPF_ANY);
	got[0] = run_pkt(caller, 1);
	bpf_map_update_elem(jmp, &k0, &t[0], BPF_ANY);
	got[1] = run_pkt(caller, 1);
	bpf_map_delete_elem(jmp, &k0);
	got[2] = run_pkt(caller, 1);
	bpf_map_update_elem(jmp, &k1, &t[1], BPF_ANY);
	got[3] = run_pkt(caller, 1);
	bpf_map_delete_elem(jmp, &k1);
}

static int poke_untrack(void)
{
	int jmp = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 2, 0, 0, 0, 0), t[3], i, bad = 0;
	int want[4], got[4];
	struct defects *a, *b;
	__u32 k0 = 0, k1 = 1, aid;

	if (jmp < 0)
		return 1;
	a = load_with_jmp(jmp);
	b = load_with_jmp(jmp);
	if (!a || !b)
		return 1;
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	t[0] = bpf_program__fd(b->progs.pk_t0);
	t[1] = bpf_program__fd(b->progs.pk_t1);
	t[2] = bpf_program__fd(b->progs.pk_t2);
	CHECK(!bpf_map_update_elem(jmp, &k0, &t[0], BPF_ANY) &&
	      !bpf_map_update_elem(jmp, &k1, &t[1], BPF_ANY), "fill");
	printf("poke_untrack: slots 0 and 1 filled: A %d, B %d\n",
	       run_pkt(bpf_program__fd(a->progs.pk_caller), 1),
	       run_pkt(bpf_program__fd(b->progs.pk_caller), 1));
	/* What B returns in each state of a round of changes, while A lives. */
	poke_round(jmp, t, bpf_program__fd(b->progs.pk_caller), want);
	printf("poke_untrack: B through a round of changes: %d %d %d %d\n", want[0], want[1],
	       want[2], want[3]);
	aid = prog_id(bpf_program__fd(a->progs.pk_caller));
	defects__destroy(a);
	printf("poke_untrack: A freed: %s\n", gone(aid, 1) ? "yes" : "no");
	for (i = 0; i < 100; i++) {
		poke_round(jmp, t, bpf_program__fd(b->progs.pk_caller), got);
		bad += !!memcmp(got, want, sizeof(got));
	}
	printf("poke_untrack: 100 rounds after A was freed, B the same: %d different\n", bad);
	CHECK(!bad, "B followed the slots differently %d times", bad);
	defects__destroy(b);
	close(jmp);
	return 0;
}

/* --- 92117d8443bc ------------------------------------------------------------------------- */

#define MANY 33000

static int fd_refs(void)
{
	int progs = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, MANY, 0, 0, 0, 0);
	int inner = create_map(BPF_MAP_TYPE_ARRAY, 8, 4, 0, 0, 0, 0);
	int maps = create_map(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, MANY, 0, inner, 0, 0);
	int prog = load_ret(BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, 0);
	int pfail = 0, mfail = 0, alive, pgone, mgone;
	__u32 i, pid, mid;

	if (progs < 0 || inner < 0 || maps < 0 || prog < 0) {
		printf("fd_refs: %s %s %s %s\n", res(progs), res(inner), res(maps), res(prog));
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	pid = prog_id(prog);
	mid = map_id(inner);
	for (i = 0; i < MANY; i++) {
		pfail += !!bpf_map_update_elem(progs, &i, &prog, BPF_ANY);
		mfail += !!bpf_map_update_elem(maps, &i, &inner, BPF_ANY);
	}
	printf("fd_refs: one program and one map in %d slots each: %d and %d failed\n", MANY, pfail,
	       mfail);
	close(prog);
	close(inner);
	alive = exists(pid, 1) + exists(mid, 0) * 2;
	printf("fd_refs: alive while the arrays hold them: %s\n", alive == 3 ? "both" : "not both");
	close(progs);
	close(maps);
	pgone = gone(pid, 1);
	mgone = gone(mid, 0);
	printf("fd_refs: released with the arrays: program %s, map %s\n", pgone ? "yes" : "no",
	       mgone ? "yes" : "no");
	CHECK(!pfail && !mfail && alive == 3 && pgone && mgone, "references");
	return 0;
}

static const struct {
	const char *name;
	int (*run)(void);
} cases[] = {
	{ "tailcall_mask", tailcall_mask },	  { "rdonly_helper", rdonly_helper },
	{ "freeze_race", freeze_race },		  { "lock_timer", lock_timer },
	{ "timer_cancel", timer_cancel },
	{ "kptr_update", kptr_update },		  { "inner_template", inner_template },
	{ "percpu_sleepable", percpu_sleepable }, { "tailcall_compat", tailcall_compat },
	{ "poke_untrack", poke_untrack },	  { "fd_refs", fd_refs },
};

int main(int argc, char **argv)
{
	const char *cmd = argc == 2 ? argv[1] : "";
	int ran = 0, ret = 0;
	size_t i;

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (strcmp(cmd, "all") && strcmp(cmd, cases[i].name))
			continue;
		ran++;
		if (cases[i].run()) {
			printf("%s: could not run\n", cases[i].name);
			ret = 1;
		}
	}
	if (!ran) {
		fprintf(stderr, "usage: see the comment at the top of defects.c\n");
		return 2;
	}
	return ret || failures ? 1 : 0;
}

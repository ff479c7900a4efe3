// SPDX-License-Identifier: GPL-2.0
/*
 * fdtest: user-space probes of the fd arrays for the rust_arraymap suite. Each subcommand
 * exercises whatever serves the types right now (the built-in C maps or the module); the
 * suite runs it both ways and compares the output.
 *
 *   fdtest tailcall         a chain of tail calls through a 40-slot PROG_ARRAY (where the
 *                           limit stops it); a JIT-patched direct tail call while its slot is
 *                           filled, replaced and emptied; errno of the syscall side
 *   fdtest clear            a PROG_ARRAY is emptied when its last fd goes, while a program
 *                           still holds the map; and when its last pin goes
 *   fdtest perf             perf buffer round trip through libbpf's perf_buffer on every CPU;
 *                           bpf_perf_event_read_value(); BPF_F_PRESERVE_ELEMS across fd close
 *   fdtest cgroup CGROOT    bpf_current_task_under_cgroup() and bpf_skb_under_cgroup() with a
 *                           cgroup v2 child of CGROOT
 *   fdtest aom PIN          ARRAY_OF_MAPS with inner ARRAYs: one new, one pinned at PIN;
 *                           inlined lookups from BPF, ids from user space, replacement, batch
 *   fdtest mixed-prep DIR   (module unloaded) pins a C-served ARRAY and two outer maps made
 *                           from it, an ARRAY_OF_MAPS and a HASH_OF_MAPS, in DIR
 *   fdtest mixed DIR        (module loaded) inner maps served by other ops than the template's
 *                           are refused, both ways: the maps of DIR against the module's
 *   fdtest errno            creation and update errno of the four types
 *   fdtest members N        a program stored in and deleted from two PROG_ARRAYs N times on two
 *                           CPUs at once, then extended by freplace: its count of PROG_ARRAY
 *                           memberships must be back to 0
 *   fdtest meta             the inner-map template holds the module as long as the outer map
 *   fdtest unload-pending KO (module only) rmmod the moment the last map goes, while the RCU
 *                           callbacks that free a PERF_EVENT_ARRAY's entries are still pending
 *   fdtest cycle            create and fill one map of each type, drop them all
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fd.skel.h"
#include "common.h"

#define MAX_CPUS 64

static int ncpus;

/* Runs a raw_tp program once, on @cpu if it is not negative. */
static int run_on(int prog_fd, int cpu)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (cpu >= 0) {
		opts.flags = BPF_F_TEST_RUN_ON_CPU;
		opts.cpu = cpu;
	}
	return bpf_prog_test_run_opts(prog_fd, &opts) ? -errno : (int)opts.retval;
}

static int run(struct bpf_program *prog)
{
	return run_on(bpf_program__fd(prog), -1);
}

static struct fd *open_and_load(void)
{
	struct fd *skel = fd__open();

	if (!skel) {
		perror("fd__open");
		return NULL;
	}
	bpf_map__set_max_entries(skel->maps.events, ncpus);
	if (fd__load(skel)) {
		perror("fd__load");
		fd__destroy(skel);
		return NULL;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	obj_maps_served_by(skel->obj);
	return skel;
}

static int update(int map_fd, __u32 key, int fd, __u64 flags)
{
	__u32 v = fd;

	return bpf_map_update_elem(map_fd, &key, &v, flags) ? -errno : 0;
}

static int del(int map_fd, __u32 key)
{
	return bpf_map_delete_elem(map_fd, &key) ? -errno : 0;
}

/* The id a lookup returns, or the errno. */
static const char *lookup_id(int map_fd, __u32 key, __u32 *id)
{
	*id = 0;
	return res(bpf_map_lookup_elem(map_fd, &key, id) ? -errno : 0);
}

/* Runs "direct": which target its tail call through slot 0 reached, if any. */
static void direct_run(struct fd *skel, const char *what)
{
	int ret = run(skel->progs.direct);

	printf("%s: ret %d hit %c\n", what, ret, skel->bss->hit ? (char)skel->bss->hit : '-');
}

static int tailcall(void)
{
	struct fd *skel = open_and_load();
	int jmp, djmp, chain, a, b, ret;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id, next;
	__u32 i;

	if (!skel)
		return 1;
	jmp = bpf_map__fd(skel->maps.chain_jmp);
	djmp = bpf_map__fd(skel->maps.direct_jmp);
	chain = bpf_program__fd(skel->progs.chain);
	a = bpf_program__fd(skel->progs.target_a);
	b = bpf_program__fd(skel->progs.target_b);

	for (i = 0; i < 40; i++)
		CHECK(update(jmp, i, chain, BPF_ANY) == 0, "fill slot %u", i);
	ret = run(skel->progs.chain);
	printf("chain of 40 slots: ret %d, programs run %u\n", ret, skel->bss->chain_count);
	skel->bss->chain_count = 0;
	printf("delete slot 5: %s\n", res(del(jmp, 5)));
	ret = run(skel->progs.chain);
	printf("chain broken at 5: ret %d, programs run %u\n", ret, skel->bss->chain_count);

	printf("lookup slot 0: %s", lookup_id(jmp, 0, &id));
	printf(", the program's id: %s\n", id == prog_id(chain) ? "yes" : "no");
	printf("lookup slot 5: %s\n", lookup_id(jmp, 5, &id));
	printf("lookup slot 40: %s\n", lookup_id(jmp, 40, &id));
	printf("delete slot 5 again: %s\n", res(del(jmp, 5)));
	printf("delete slot 40: %s\n", res(del(jmp, 40)));
	printf("update slot 40: %s\n", res(update(jmp, 40, chain, BPF_ANY)));
	printf("update BPF_NOEXIST: %s\n", res(update(jmp, 1, chain, BPF_NOEXIST)));
	printf("update BPF_EXIST: %s\n", res(update(jmp, 1, chain, BPF_EXIST)));
	printf("update with a map fd: %s\n", res(update(jmp, 1, jmp, BPF_ANY)));
	printf("update with fd 999: %s\n", res(update(jmp, 1, 999, BPF_ANY)));
	printf("update with a tc program: %s\n",
	       res(update(jmp, 1, bpf_program__fd(skel->progs.skb_under), BPF_ANY)));
	printf("getnext 38: %s", res(bpf_map_get_next_key(jmp, &(__u32){ 38 }, &next) ? -errno : 0));
	printf(" %u\n", next);
	printf("getnext 39: %s\n", res(bpf_map_get_next_key(jmp, &(__u32){ 39 }, &next) ? -errno : 0));

	/* bpffs pretty printing (map_seq_show_elem), ids replaced by the program's name. */
	unlink("/sys/fs/bpf/fd_seq_show");
	if (!bpf_obj_pin(jmp, "/sys/fs/bpf/fd_seq_show")) {
		FILE *f = fopen("/sys/fs/bpf/fd_seq_show", "r");
		unsigned int k, v, n = 0, other = 0, chain_id = prog_id(chain);
		char line[128];

		while (f && fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%u: %u", &k, &v) != 2)
				continue;
			if (v == chain_id && n++ < 2)
				printf("bpffs: %u: <chain's id>\n", k);
			else if (v != chain_id)
				other++;
		}
		printf("bpffs: %u lines with chain's id, %u others\n", n, other);
		if (f)
			fclose(f);
		unlink("/sys/fs/bpf/fd_seq_show");
	}

	/* The direct tail call (constant key) of "direct", patched by the JIT. */
	bpf_prog_get_info_by_fd(bpf_program__fd(skel->progs.direct), &info, &len);
	printf("direct: jited %s\n", info.jited_prog_len ? "yes" : "no");
	direct_run(skel, "empty slot");
	CHECK(update(djmp, 0, a, BPF_ANY) == 0, "slot 0 = a");
	direct_run(skel, "slot 0 = a");
	CHECK(update(djmp, 0, b, BPF_ANY) == 0, "slot 0 = b");
	direct_run(skel, "slot 0 = b");
	CHECK(update(djmp, 1, a, BPF_ANY) == 0, "slot 1 = a");
	direct_run(skel, "slot 1 = a");
	printf("delete slot 0: %s\n", res(del(djmp, 0)));
	direct_run(skel, "slot 0 deleted");
	CHECK(update(djmp, 0, a, BPF_ANY) == 0, "slot 0 = a");
	direct_run(skel, "slot 0 = a again");

	fd__destroy(skel);
	return failures != 0;
}

/* Is the program @id still alive? Waits up to 5 s for it to go when @expect_gone. */
static const char *prog_alive(__u32 id, int expect_gone)
{
	int i, fd;

	for (i = 0; i < 100; i++) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			return "no";
		close(fd);
		if (!expect_gone)
			break;
		usleep(50000);
	}
	return "yes";
}

static int clear(const char *pin)
{
	struct fd *skel = open_and_load();
	int chain, target, jmp, map, i;
	__u32 target_id, jmp_id, id;

	if (!skel)
		return 1;
	/* "chain" uses chain_jmp: it holds the map, but not as a user reference. */
	chain = dup(bpf_program__fd(skel->progs.chain));
	target = dup(bpf_program__fd(skel->progs.target_a));
	jmp = bpf_map__fd(skel->maps.chain_jmp);
	jmp_id = map_id(jmp);
	target_id = prog_id(target);
	CHECK(update(jmp, 1, chain, BPF_ANY) == 0, "slot 1 = chain");
	CHECK(update(jmp, 2, target, BPF_ANY) == 0, "slot 2 = target");
	close(target);
	printf("target alive while in the array: %s\n", prog_alive(target_id, 0));
	fd__destroy(skel);

	/* The skeleton's fd was the last user reference: the array is emptied. */
	printf("after the last fd: target alive: %s\n", prog_alive(target_id, 1));
	map = bpf_map_get_fd_by_id(jmp_id);
	printf("the map still exists: %s\n", map >= 0 ? "yes" : "no");
	printf("slot 1: %s\n", lookup_id(map, 1, &id));
	printf("slot 2: %s\n", lookup_id(map, 2, &id));
	printf("chain run on the emptied array: ret %d\n", run_on(chain, -1));

	/* Again with a pin: the pin keeps the entries, unlinking it clears them. */
	target = bpf_prog_get_fd_by_id(prog_id(chain));
	CHECK(update(map, 3, target, BPF_ANY) == 0, "slot 3 = chain");
	close(target);
	CHECK(bpf_obj_pin(map, pin) == 0, "pin %s", pin);
	close(map);
	usleep(200000);
	map = bpf_obj_get(pin);
	printf("pinned, fds closed: slot 3: %s\n", lookup_id(map, 3, &id));
	close(map);
	unlink(pin);
	usleep(200000);
	map = bpf_map_get_fd_by_id(jmp_id);
	for (i = 0; i < 100; i++) {
		if (bpf_map_lookup_elem(map, &(__u32){ 3 }, &id))
			break;
		usleep(50000);
	}
	printf("pin removed: slot 3: %s\n", lookup_id(map, 3, &id));
	close(map);
	close(chain);
	return failures != 0;
}

static int perf_event_open(struct perf_event_attr *attr, int cpu)
{
	return syscall(__NR_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

struct sample {
	__u32 cpu;
	__u32 tag;
};

static int seen[MAX_CPUS];

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct sample *s = data;

	if (size >= sizeof(*s) && s->cpu == (__u32)cpu && cpu < MAX_CPUS)
		seen[cpu] = s->tag;
}

static int perf(void)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
	};
	struct fd *skel = open_and_load();
	struct perf_buffer *pb;
	int cpu, fd, cfd, i, m, m2, ret;

	if (!skel)
		return 1;
	pb = perf_buffer__new(bpf_map__fd(skel->maps.events), 8, on_sample, NULL, NULL, NULL);
	if (!pb) {
		perror("perf_buffer__new");
		return 1;
	}
	for (cpu = 0; cpu < ncpus; cpu++) {
		skel->bss->sample_tag = 100 + cpu;
		ret = run_on(bpf_program__fd(skel->progs.emit), cpu);
		printf("emit on cpu %d: ret %d\n", cpu, ret);
	}
	for (i = 0; i < 20; i++)
		if (perf_buffer__poll(pb, 100) < 0)
			break;
	for (cpu = 0; cpu < ncpus; cpu++)
		printf("sample from cpu %d: tag %d\n", cpu, seen[cpu]);
	perf_buffer__free(pb);
	/* perf_buffer__free() deletes the slots it filled. */
	skel->bss->sample_tag = 7;
	printf("emit after perf_buffer__free: ret %d\n",
	       run_on(bpf_program__fd(skel->progs.emit), 0));

	/* bpf_perf_event_read_value() of a CPU clock counter on each CPU. */
	m = bpf_map__fd(skel->maps.counters);
	for (cpu = 0; cpu < ncpus; cpu++) {
		fd = perf_event_open(&attr, cpu);
		CHECK(fd >= 0, "perf_event_open cpu %d: %m", cpu);
		CHECK(update(m, cpu, fd, BPF_ANY) == 0, "counters[%d]", cpu);
		close(fd);
	}
	for (cpu = 0; cpu < ncpus; cpu++) {
		skel->bss->counter_idx = BPF_F_CURRENT_CPU;
		run_on(bpf_program__fd(skel->progs.read_counter), cpu);
		printf("read_value on cpu %d: ret %ld, counting %s\n", cpu, skel->bss->counter_ret,
		       skel->bss->counter_val.counter && skel->bss->counter_val.enabled ? "yes" : "no");
	}
	skel->bss->counter_idx = 6;
	run_on(bpf_program__fd(skel->progs.read_counter), 0);
	printf("read_value of an empty slot: ret %ld\n", skel->bss->counter_ret);
	skel->bss->counter_idx = 1;
	run_on(bpf_program__fd(skel->progs.read_counter), 0);
	printf("read_value of another CPU's counter: ret %ld\n", skel->bss->counter_ret);
	printf("lookup slot 0: %s\n", res(bpf_map_lookup_elem(m, &(__u32){ 0 }, &i) ? -errno : 0));
	printf("update with a map fd: %s\n", res(update(m, 2, m, BPF_ANY)));
	fd = open("/dev/null", O_RDONLY);
	printf("update with /dev/null: %s\n", res(update(m, 2, fd, BPF_ANY)));
	close(fd);
	{
		/* A task event that children inherit cannot be read locally: EOPNOTSUPP. */
		struct perf_event_attr inh = attr;

		inh.inherit = 1;
		fd = syscall(__NR_perf_event_open, &inh, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
		CHECK(fd >= 0, "perf_event_open inherit: %m");
		printf("update with an inherited task event: %s\n", res(update(m, 2, fd, BPF_ANY)));
		close(fd);
	}
	fd__destroy(skel);

	/* Entries go with the file they were stored through, unless BPF_F_PRESERVE_ELEMS. */
	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = i ? BPF_F_PRESERVE_ELEMS : 0);
		__u32 id;

		m = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "pe", 4, 4, 4, &o);
		CHECK(m >= 0, "create: %m");
		id = map_id(m);
		fd = perf_event_open(&attr, 0);
		CHECK(update(m, 0, fd, BPF_ANY) == 0, "update");
		CHECK(update(m, 1, fd, BPF_ANY) == 0, "update");
		close(fd);
		m2 = bpf_map_get_fd_by_id(id);
		cfd = dup(m);
		close(m);
		printf("%s: other fd of the same file closed: delete slot 0: %s\n",
		       i ? "PRESERVE_ELEMS" : "no flag", res(del(m2, 0)));
		close(cfd);
		printf("%s: storing file closed: delete slot 1: %s\n",
		       i ? "PRESERVE_ELEMS" : "no flag", res(del(m2, 1)));
		fd = perf_event_open(&attr, 0);
		CHECK(update(m2, 2, fd, BPF_ANY) == 0, "update");
		close(fd);
		close(m2);
	}
	return failures != 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static int move_self(const char *cgdir)
{
	char path[512], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgdir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_file(path, pid);
}

static void under(struct fd *skel, const char *where)
{
	char pkt[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt));
	int ret;

	skel->bss->under_ret = -1;
	run(skel->progs.task_under);
	printf("%s: task_under_cgroup: %ld", where, skel->bss->under_ret);
	skel->bss->under_ret = -1;
	ret = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.skb_under), &opts);
	printf(", skb_under_cgroup: %ld (run %s)\n", skel->bss->under_ret, res(ret ? -errno : 0));
}

static int cgroup(const char *root)
{
	char child[512];
	struct fd *skel;
	int cg, m;

	snprintf(child, sizeof(child), "%s/fdtest", root);
	rmdir(child);
	if (mkdir(child, 0755)) {
		perror(child);
		return 1;
	}
	skel = open_and_load();
	if (!skel)
		return 1;
	m = bpf_map__fd(skel->maps.cgroups);
	cg = open(child, O_RDONLY | O_DIRECTORY);
	CHECK(cg >= 0, "open %s: %m", child);
	printf("update slot 0: %s\n", res(update(m, 0, cg, BPF_ANY)));
	printf("update with a file: %s\n", res(update(m, 1, open("/dev/null", O_RDONLY), BPF_ANY)));
	printf("lookup slot 0: %s\n", res(bpf_map_lookup_elem(m, &(__u32){ 0 }, &cg) ? -errno : 0));
	skel->bss->cgroup_idx = 0;
	under(skel, "in the root");
	CHECK(move_self(child) == 0, "move to %s", child);
	under(skel, "in the child");
	skel->bss->cgroup_idx = 1;
	under(skel, "empty slot");
	skel->bss->cgroup_idx = 2;
	under(skel, "slot 2 of 2");
	CHECK(move_self(root) == 0, "move back to %s", root);
	skel->bss->cgroup_idx = 0;
	under(skel, "back in the root");
	printf("delete slot 0: %s\n", res(del(m, 0)));
	printf("delete slot 0 again: %s\n", res(del(m, 0)));
	close(cg);
	fd__destroy(skel);
	if (rmdir(child))
		perror("rmdir");
	return failures != 0;
}

static int inner_create(const char *name, __u32 value_size)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, value_size, 4, NULL);
}

static void read_inner(struct fd *skel, __u32 outer_key, __u32 inner_key)
{
	skel->bss->outer_key = outer_key;
	skel->bss->inner_key = inner_key;
	skel->bss->inner_value = 0;
	run(skel->progs.read_inner);
	printf("BPF outer[%u][%u]: found %d value %llu\n", outer_key, inner_key,
	       skel->bss->inner_found, (unsigned long long)skel->bss->inner_value);
}

static int aom(const char *pin)
{
	struct fd *skel = open_and_load();
	int outer, in1, in2, bad, i;
	__u32 id, keys[4], vals[4], count, out;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u64 v;
	int ret;

	if (!skel)
		return 1;
	outer = bpf_map__fd(skel->maps.outer);
	in1 = inner_create("in1", 8);
	in2 = bpf_obj_get(pin);
	CHECK(in1 >= 0 && in2 >= 0, "inner maps: %m");
	for (i = 0; i < 4; i++) {
		v = 10 + i;
		bpf_map_update_elem(in1, &(__u32){ i }, &v, BPF_ANY);
	}
	printf("update outer[0] = in1: %s\n", res(update(outer, 0, in1, BPF_ANY)));
	printf("update outer[1] = pinned: %s\n", res(update(outer, 1, in2, BPF_ANY)));
	read_inner(skel, 0, 2);
	read_inner(skel, 1, 3);
	read_inner(skel, 2, 0);
	read_inner(skel, 4, 0);
	printf("lookup outer[0]: %s", lookup_id(outer, 0, &id));
	printf(", in1's id: %s\n", id == map_id(in1) ? "yes" : "no");
	printf("lookup outer[1]: %s", lookup_id(outer, 1, &id));
	printf(", the pinned map's id: %s\n", id == map_id(in2) ? "yes" : "no");
	printf("lookup outer[2]: %s\n", lookup_id(outer, 2, &id));

	/* Replace: in2 at 0, then update in1's values while it sits only in slot 3. */
	printf("update outer[0] = pinned: %s\n", res(update(outer, 0, in2, BPF_ANY)));
	read_inner(skel, 0, 3);
	printf("update outer[3] = in1: %s\n", res(update(outer, 3, in1, BPF_ANY)));
	v = 99;
	bpf_map_update_elem(in1, &(__u32){ 1 }, &v, BPF_ANY);
	close(in1);
	read_inner(skel, 3, 1);

	/* The inner map template decides what fits. */
	bad = inner_create("bad", 16);
	printf("update with a 16-byte-value inner: %s\n", res(update(outer, 2, bad, BPF_ANY)));
	close(bad);
	bad = bpf_map_create(BPF_MAP_TYPE_HASH, "bad", 4, 8, 4, NULL);
	printf("update with a HASH inner: %s\n", res(update(outer, 2, bad, BPF_ANY)));
	close(bad);
	printf("update with a prog fd: %s\n",
	       res(update(outer, 2, bpf_program__fd(skel->progs.chain), BPF_ANY)));
	printf("update BPF_EXIST: %s\n", res(update(outer, 0, in2, BPF_EXIST)));
	printf("update slot 4: %s\n", res(update(outer, 4, in2, BPF_ANY)));

	/* Batch: ids of every slot, ENOENT ends it; then an update batch. */
	count = 4;
	ret = bpf_map_lookup_batch(outer, NULL, &out, keys, vals, &count, &bo) ? -errno : 0;
	printf("lookup_batch: %s count=%u", res(ret), count);
	for (i = 0; i < (int)count; i++)
		printf(" %u:%s", keys[i], vals[i] == map_id(in2) ? "pinned" : vals[i] ? "in1" : "?");
	printf("\n");
	keys[0] = 2;
	vals[0] = in2;
	count = 1;
	ret = bpf_map_update_batch(outer, keys, vals, &count, &bo) ? -errno : 0;
	printf("update_batch slot 2: %s count=%u\n", res(ret), count);
	read_inner(skel, 2, 3);
	printf("delete outer[1]: %s\n", res(del(outer, 1)));
	printf("delete outer[1] again: %s\n", res(del(outer, 1)));
	read_inner(skel, 1, 0);
	close(in2);
	fd__destroy(skel);
	return failures != 0;
}

/* An outer map of @type (ARRAY_OF_MAPS or HASH_OF_MAPS) whose template is made from @inner. */
static int outer_create(enum bpf_map_type type, const char *name, int inner)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .inner_map_fd = inner);

	return bpf_map_create(type, name, 4, 4, 4, &o);
}

/* The maps of "mixed", pinned in a directory of bpffs, made by whatever serves them now. */
static const char *const mixed_names[] = { "inner", "outer", "houter" };

static int mixed_prep(const char *dir)
{
	char path[256];
	int fds[3], i;
	__u64 v = 11;

	fds[0] = inner_create("c_inner", 8);
	CHECK(fds[0] >= 0, "c_inner: %m");
	CHECK(!bpf_map_update_elem(fds[0], &(__u32){ 1 }, &v, BPF_ANY), "c_inner[1]: %m");
	fds[1] = outer_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "c_outer", fds[0]);
	fds[2] = outer_create(BPF_MAP_TYPE_HASH_OF_MAPS, "c_houter", fds[0]);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, mixed_names[i]);
		CHECK(fds[i] >= 0 && !bpf_obj_pin(fds[i], path), "pin %s: %m", path);
		close(fds[i]);
	}
	return failures != 0;
}

/*
 * Stores @inner into slot 0 and @other into slot 1 of @outer, one call each and then a batch of
 * one for slot 2, and reads slot 1 back: the template of @outer takes maps of @inner's ops only.
 */
static void mixed_store(const char *outer_name, int outer, const char *inner_name, int inner,
			const char *other_name, int other)
{
	__u32 key = 2, val = other, count = 1, id;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	int ret;

	printf("%s[0] = %s: %s\n", outer_name, inner_name, res(update(outer, 0, inner, BPF_ANY)));
	printf("%s[1] = %s: %s\n", outer_name, other_name, res(update(outer, 1, other, BPF_ANY)));
	ret = bpf_map_update_batch(outer, &key, &val, &count, &bo) ? -errno : 0;
	printf("%s batch [2] = %s: %s count=%u\n", outer_name, other_name, res(ret), count);
	printf("%s[1] lookup: %s\n", outer_name, lookup_id(outer, 1, &id));
}

static void mixed_owner(const char *name, int fd)
{
	char owner[64];
	int err = map_ops_owner(fd, owner, sizeof(owner));

	printf("%s served by: %s\n", name, err ? res(err) : owner);
}

static int mixed(const char *dir)
{
	int c[3], r_inner, r_outer, r_outer_c, r_houter, i;
	char path[256];
	__u64 v = 22;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, mixed_names[i]);
		c[i] = bpf_obj_get(path);
		CHECK(c[i] >= 0, "%s: %m", path);
	}
	r_inner = inner_create("r_inner", 8);
	CHECK(r_inner >= 0, "r_inner: %m");
	CHECK(!bpf_map_update_elem(r_inner, &(__u32){ 1 }, &v, BPF_ANY), "r_inner[1]: %m");
	r_outer = outer_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "r_outer", r_inner);
	/* Served by the module, with a template made from a C-served map: C's ops inside. */
	r_outer_c = outer_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "r_outer_c", c[0]);
	/* Built in whatever serves the array types: HASH_OF_MAPS is C's. */
	r_houter = outer_create(BPF_MAP_TYPE_HASH_OF_MAPS, "r_houter", r_inner);
	CHECK(r_outer >= 0 && r_outer_c >= 0 && r_houter >= 0, "outer maps: %m");
	if (failures)
		return 1;
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());

	mixed_owner("c_inner", c[0]);
	mixed_owner("c_outer", c[1]);
	mixed_owner("c_houter", c[2]);
	mixed_owner("r_inner", r_inner);
	mixed_owner("r_outer", r_outer);
	mixed_owner("r_outer_c", r_outer_c);
	mixed_owner("r_houter", r_houter);

	mixed_store("c_outer", c[1], "c_inner", c[0], "r_inner", r_inner);
	mixed_store("c_houter", c[2], "c_inner", c[0], "r_inner", r_inner);
	mixed_store("r_outer", r_outer, "r_inner", r_inner, "c_inner", c[0]);
	mixed_store("r_outer_c", r_outer_c, "c_inner", c[0], "r_inner", r_inner);
	mixed_store("r_houter", r_houter, "r_inner", r_inner, "c_inner", c[0]);

	for (i = 0; i < 3; i++)
		close(c[i]);
	close(r_inner);
	close(r_outer);
	close(r_outer_c);
	close(r_houter);
	return failures != 0;
}

static void report_create(const char *what, enum bpf_map_type type, __u32 value_size,
			  __u32 entries, __u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	int fd = bpf_map_create(type, "e", 4, value_size, entries, &o);

	printf("create %s: %s\n", what, res(fd < 0 ? -errno : 0));
	if (fd >= 0)
		close(fd);
}

/* A map of @type (4-byte keys and values) whose key and value are the suite's BTF int. */
static void report_create_btf(const char *what, enum bpf_map_type type, int btf, int inner)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .btf_fd = btf, .btf_key_type_id = T_INT,
		    .btf_value_type_id = T_INT, .inner_map_fd = inner);
	int fd = bpf_map_create(type, "e", 4, 4, 4, &o);

	printf("create %s with key and value BTF: %s\n", what, res(fd < 0 ? -errno : 0));
	if (fd >= 0)
		close(fd);
}

/* The freplace program ext_replacement, loaded against @skel's ext_target (not attached). */
static struct fd *ext_load(struct fd *skel)
{
	struct fd *ext = fd__open();
	struct bpf_program *p;

	if (!ext) {
		printf("fd skeleton: %m\n");
		return NULL;
	}
	bpf_object__for_each_program(p, ext->obj)
		bpf_program__set_autoload(p, p == ext->progs.ext_replacement);
	bpf_program__set_attach_target(ext->progs.ext_replacement,
				       bpf_program__fd(skel->progs.ext_target), "ext_target_sub");
	if (fd__load(ext)) {
		printf("freplace program load: %m\n");
		fd__destroy(ext);
		return NULL;
	}
	return ext;
}

static int errno_cases(void)
{
	static const struct {
		const char *name;
		enum bpf_map_type type;
	} types[] = {
		{ "prog_array", BPF_MAP_TYPE_PROG_ARRAY },
		{ "perf_event_array", BPF_MAP_TYPE_PERF_EVENT_ARRAY },
		{ "cgroup_array", BPF_MAP_TYPE_CGROUP_ARRAY },
	};
	char what[64];
	unsigned int t;

	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		enum bpf_map_type ty = types[t].type;
		const char *n = types[t].name;

#define C(desc, ...)                                              \
	do {                                                      \
		snprintf(what, sizeof(what), "%s %s", n, desc); \
		report_create(what, ty, __VA_ARGS__);             \
	} while (0)
		C("ok", 4, 8, 0);
		C("value 8", 8, 8, 0);
		C("value 0", 0, 8, 0);
		C("entries 0", 4, 0, 0);
		C("RDONLY_PROG", 4, 8, BPF_F_RDONLY_PROG);
		C("WRONLY_PROG", 4, 8, BPF_F_WRONLY_PROG);
		C("RDONLY", 4, 8, BPF_F_RDONLY);
		C("PRESERVE_ELEMS", 4, 8, BPF_F_PRESERVE_ELEMS);
		C("MMAPABLE", 4, 8, BPF_F_MMAPABLE);
		C("INNER_MAP", 4, 8, BPF_F_INNER_MAP);
		C("NUMA_NODE", 4, 8, BPF_F_NUMA_NODE);
		C("entries 1<<31", 4, 1U << 31, 0);
		C("entries 1<<31+1", 4, (1U << 31) + 1, 0);
#undef C
	}
	{
		LIBBPF_OPTS(bpf_map_create_opts, o);
		int in = inner_create("in", 8), fd;

		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "e", 4, 4, 4, &o);
		printf("create array_of_maps without inner: %s\n", res(fd < 0 ? -errno : 0));
		o.inner_map_fd = in;
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "e", 4, 4, 4, &o);
		printf("create array_of_maps: %s\n", res(fd < 0 ? -errno : 0));
		close(fd);
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "e", 4, 8, 4, &o);
		printf("create array_of_maps value 8: %s\n", res(fd < 0 ? -errno : 0));
		o.map_flags = BPF_F_RDONLY_PROG;
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "e", 4, 4, 4, &o);
		printf("create array_of_maps RDONLY_PROG: %s\n", res(fd < 0 ? -errno : 0));
		o.map_flags = 0;
		o.inner_map_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "p", 4, 4, 4, NULL);
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "e", 4, 4, 4, &o);
		printf("create array_of_maps of prog arrays: %s\n", res(fd < 0 ? -errno : 0));
		close(o.inner_map_fd);
		o.inner_map_fd = bpf_map_create(BPF_MAP_TYPE_CGROUP_ARRAY, "c", 4, 4, 4, NULL);
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "e", 4, 4, 4, &o);
		printf("create array_of_maps of cgroup arrays: %s\n", res(fd < 0 ? -errno : 0));
		close(fd);
		close(o.inner_map_fd);
		close(in);
	}
	{
		/*
		 * An freplace (EXT) program is refused before the PROG_ARRAY's owner is bound
		 * (prog_fd_array_get_ptr() tests the type first): a program of any type may still
		 * be the first.
		 */
		struct fd *skel = open_and_load(), *ext = skel ? ext_load(skel) : NULL;
		int m = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "e", 4, 4, 4, NULL);

		if (!ext)
			return 1;
		printf("prog_array: an freplace program: %s\n",
		       res(update(m, 0, bpf_program__fd(ext->progs.ext_replacement), BPF_ANY)));
		printf("prog_array: then a raw_tp program: %s\n",
		       res(update(m, 1, bpf_program__fd(skel->progs.task_under), BPF_ANY)));
		printf("prog_array: then a tc program: %s\n",
		       res(update(m, 2, bpf_program__fd(skel->progs.ext_target), BPF_ANY)));
		close(m);
		fd__destroy(ext);
		fd__destroy(skel);
	}
	{
		/* map_check_no_btf(): BTF for keys and values refused, but by PROG_ARRAY. */
		int btf = test_btf_load(), in = inner_create("in", 4);

		if (btf < 0) {
			printf("BTF load failed\n");
			return 1;
		}
		for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			report_create_btf(types[t].name, types[t].type, btf, 0);
		report_create_btf("array_of_maps", BPF_MAP_TYPE_ARRAY_OF_MAPS, btf, in);
		close(in);
		close(btf);
	}
	return 0;
}

/*
 * members: prog_array_member_cnt, which a PROG_ARRAY counts up for each slot holding a program
 * and down when the slot lets it go, under the program's ext_mutex (prog_fd_array_get_ptr(),
 * prog_fd_array_put_ptr()), and which freplace reads under the same mutex: a target stored in
 * a PROG_ARRAY cannot be extended (EBUSY). Two threads on two CPUs store ext_target in a
 * PROG_ARRAY of their own and delete it, N times each; then, with both maps empty, the count
 * must be 0 again: freplace attaches. A count updated outside the mutex loses some of the racing
 * updates, and freplace then finds a count that is not 0 (EBUSY), or one that has wrapped.
 */
struct member_racer {
	int cpu, map, prog, n, errors;
	pthread_barrier_t *start;
};

static void *member_race(void *arg)
{
	struct member_racer *r = arg;
	int i;

	if (bind_to_cpu(r->cpu))
		r->errors++;
	pthread_barrier_wait(r->start);
	for (i = 0; i < r->n; i++)
		r->errors += !!update(r->map, 0, r->prog, BPF_ANY) + !!del(r->map, 0);
	return NULL;
}

static int members(int n)
{
	struct fd *skel = open_and_load(), *ext = skel ? ext_load(skel) : NULL;
	struct member_racer r[2];
	pthread_barrier_t start;
	pthread_t t[2];
	struct bpf_link *link;
	int i, cpus[MAX_CPUS];

	if (!ext)
		return 1;
	/* Two online CPUs (the suite may have taken one offline). */
	if (online_cpus(cpus, ncpus) < 2) {
		printf("fewer than 2 online CPUs\n");
		return 1;
	}
	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		r[i] = (struct member_racer){
			.cpu = cpus[i],
			.map = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "members", 4, 4, 1, NULL),
			.prog = bpf_program__fd(skel->progs.ext_target),
			.n = n,
			.start = &start,
		};
		if (r[i].map < 0) {
			printf("racer %d's PROG_ARRAY: %m\n", i);
			return 1;
		}
		map_served_by("members", r[i].map);
		if (pthread_create(&t[i], NULL, member_race, &r[i])) {
			printf("racer %d: %m\n", i);
			return 1;
		}
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("members: %d stores and deletes on each of 2 CPUs, %d errors\n", n,
	       r[0].errors + r[1].errors);
	link = bpf_program__attach_freplace(ext->progs.ext_replacement,
					    bpf_program__fd(skel->progs.ext_target), "ext_target_sub");
	printf("members: both PROG_ARRAYs empty, freplace attach: %s\n",
	       res(link ? 0 : -errno));
	/* Extended now: no PROG_ARRAY may take it (prog_fd_array_get_ptr(): EBUSY). */
	printf("members: extended, stored: %s\n", res(update(r[0].map, 0, r[0].prog, BPF_ANY)));
	bpf_link__destroy(link);
	printf("members: freplace detached, stored: %s\n",
	       res(update(r[0].map, 0, r[0].prog, BPF_ANY)));
	close(r[0].map);
	close(r[1].map);
	fd__destroy(ext);
	fd__destroy(skel);
	return 0;
}

/*
 * unload-pending: a PERF_EVENT_ARRAY's entries are freed by module code after an RCU grace
 * period (EventEntry's call_rcu() callback, as C's bpf_event_entry_free_rcu()), so the module's
 * exit must wait for those callbacks (rcu_barrier()): one that runs after the module's text is
 * gone is an oops. Each round fills a map of 65,536 slots with one event, closes both (the map's
 * release queues 65,536 callbacks) and tries delete_module() without a pause until the module is
 * gone, which is as soon as the map is freed; then it inserts the module again. 3 rounds; the
 * module is left unloaded.
 */
static int unload_pending(const char *ko)
{
	enum { ENTRIES = 65536, ROUNDS = 3 };
	time_t deadline;
	int r, ret, ev, map;
	__u32 k;

	for (r = 0; r < ROUNDS; r++) {
		ret = module_insert_ko(ko);
		if (ret && ret != -EEXIST) {
			printf("insmod: %s\n", res(ret));
			return 1;
		}
		ev = perf_open_sw(PERF_COUNT_SW_BPF_OUTPUT, -1, 0);
		map = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "pending", 4, 4, ENTRIES, NULL);
		if (ev < 0 || map < 0) {
			printf("round %d: event or map: %m\n", r);
			return 1;
		}
		map_served_by("pending", map);
		for (k = 0; k < ENTRIES; k++)
			if (update(map, k, ev, BPF_ANY)) {
				printf("round %d: update %u: %m\n", r, k);
				return 1;
			}
		close(ev);
		close(map);
		deadline = time(NULL) + 30;
		while ((ret = module_try_remove()) == -EWOULDBLOCK && time(NULL) < deadline)
			;
		printf("round %d: %d entries released, rmmod at once: %s\n", r, ENTRIES, res(ret));
		if (ret)
			return 1;
		/* The callbacks' grace period and more: any of them that ran without the module. */
		usleep(500 * 1000);
	}
	return 0;
}

static int meta(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int in, out, r0, r1, r2, r3;

	r0 = module_refs();
	in = inner_create("in", 8);
	r1 = module_refs();
	o.inner_map_fd = in;
	out = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "out", 4, 4, 4, &o);
	CHECK(out >= 0, "create: %m");
	r2 = module_refs();
	close(in);
	usleep(300000);
	r3 = module_refs();
	printf("module references: none %d, inner %d, inner+outer+template %d, outer+template %d\n",
	       r0, r1 - r0, r2 - r0, r3 - r0);
	fprintf(stderr, "module-refs-while-open: %d\n", r3);
	close(out);
	return 0;
}

static int cycle(void)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
	};
	struct fd *skel = fd__open();
	int i, fd;

	if (!skel || fd__load(skel))
		return 1;
	for (i = 0; i < 40; i++)
		update(bpf_map__fd(skel->maps.chain_jmp), i, bpf_program__fd(skel->progs.chain),
		       BPF_ANY);
	update(bpf_map__fd(skel->maps.direct_jmp), 0, bpf_program__fd(skel->progs.target_a),
	       BPF_ANY);
	run(skel->progs.direct);
	for (i = 0; i < 4; i++) {
		fd = perf_event_open(&attr, 0);
		update(bpf_map__fd(skel->maps.counters), i, fd, BPF_ANY);
		close(fd);
	}
	fd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);
	update(bpf_map__fd(skel->maps.cgroups), 0, fd, BPF_ANY);
	close(fd);
	fd = inner_create("in", 8);
	update(bpf_map__fd(skel->maps.outer), 0, fd, BPF_ANY);
	close(fd);
	fd__destroy(skel);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 1 || ncpus > MAX_CPUS) {
		fprintf(stderr, "%d possible CPUs: not supported here\n", ncpus);
		return 1;
	}
	if (!strcmp(cmd, "tailcall"))
		return tailcall();
	if (!strcmp(cmd, "clear") && argc == 3)
		return clear(argv[2]);
	if (!strcmp(cmd, "perf"))
		return perf();
	if (!strcmp(cmd, "cgroup") && argc == 3)
		return cgroup(argv[2]);
	if (!strcmp(cmd, "aom") && argc == 3)
		return aom(argv[2]);
	if (!strcmp(cmd, "mixed-prep") && argc == 3)
		return mixed_prep(argv[2]);
	if (!strcmp(cmd, "mixed") && argc == 3)
		return mixed(argv[2]);
	if (!strcmp(cmd, "errno"))
		return errno_cases();
	if (!strcmp(cmd, "members") && argc == 3 && atoi(argv[2]) > 0)
		return members(atoi(argv[2]));
	if (!strcmp(cmd, "unload-pending") && argc == 3)
		return unload_pending(argv[2]);
	if (!strcmp(cmd, "meta"))
		return meta();
	if (!strcmp(cmd, "cycle"))
		return cycle();
	fprintf(stderr, "usage: see the comment at the top of fdtest.c\n");
	return 2;
}

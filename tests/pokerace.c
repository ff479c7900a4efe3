// SPDX-License-Identifier: GPL-2.0
/*
 * pokerace: a PROG_ARRAY slot replaced and emptied in a loop while a program tail-calls through
 * it with a constant key, i.e. through a JIT-patched direct jump, for a fixed time.
 *
 *   pokerace [SECONDS]
 *
 * Whoever serves PROG_ARRAY (the built-in maps, or rust_arraymap when it is loaded), each slot
 * change re-patches the caller's JIT text while another CPU runs it (x86:
 * smp_text_poke_single(): an INT3, a sync IPI to every CPU, the rest, the first byte). The
 * program must return 1 (empty slot), 2 or 3 (the two targets), must reach a target at least
 * once (a slot that never dispatched would pass the rest), and the kernel must report nothing.
 * make poke-race runs it on the test kernel; see Documentation/testing.rst for what
 * multi-threaded TCG does here. Last line: "N s: R runs, T tail calls taken, P slot changes,
 * B bad"; exit 1 on a bad return or no tail call taken.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "common.h"

static int map, caller, target[2];
static atomic_bool stop;
static atomic_long runs, taken, changes, bad;

static void *run_caller(void *arg)
{
	char pkt[64] = {};

	while (!stop) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt));

		if (bpf_prog_test_run_opts(caller, &opts) || opts.retval < 1 || opts.retval > 3) {
			if (!bad++)
				fprintf(stderr, "pokerace: run: %s, retval %u\n", strerror(errno),
					opts.retval);
		} else if (opts.retval > 1) {
			taken++;
		}
		runs++;
	}
	return NULL;
}

static void *change_slot(void *arg)
{
	const int key = 0;

	while (!stop) {
		/* empty -> target 0 -> target 1 -> empty: every kind of re-patch */
		if (bpf_map_update_elem(map, &key, &target[0], BPF_ANY) ||
		    bpf_map_update_elem(map, &key, &target[1], BPF_ANY) ||
		    bpf_map_delete_elem(map, &key)) {
			if (!bad++)
				fprintf(stderr, "pokerace: slot change: %s\n", strerror(errno));
		}
		changes += 3;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 60;
	pthread_t caller_thread, slot_thread;

	map = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, NULL, 4, 4, 1, NULL);
	if (map < 0) {
		perror("pokerace: PROG_ARRAY");
		return 1;
	}
	/* two targets, returning 2 and 3; the caller tail-calls slot 0 with a constant key */
	target[0] = prog_load_ret(2, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0);
	target[1] = prog_load_ret(3, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0);
	caller = load_tail_caller(map);
	if (target[0] < 0 || target[1] < 0 || caller < 0) {
		fprintf(stderr, "pokerace: prog load: %s\n", strerror(errno));
		return 1;
	}
	if (pthread_create(&caller_thread, NULL, run_caller, NULL) ||
	    pthread_create(&slot_thread, NULL, change_slot, NULL)) {
		perror("pokerace: pthread_create");
		return 1;
	}
	sleep(seconds);
	stop = true;
	pthread_join(caller_thread, NULL);
	pthread_join(slot_thread, NULL);
	printf("%d s: %ld runs, %ld tail calls taken, %ld slot changes, %ld bad\n", seconds, runs,
	       taken, changes, bad);
	return bad != 0 || taken == 0;
}

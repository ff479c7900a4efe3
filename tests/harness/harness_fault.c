// SPDX-License-Identifier: GPL-2.0
/*
 * harness_fault: a test-only module that makes the kernel report on demand, so that the check of
 * make test's harness (scripts/check-harness.sh) can prove that each kind of report turns the
 * verdict red. Never loaded by anything else.
 *
 *   insmod harness_fault.ko fault=warn|rcu|sleep|lockdep
 *
 * The report is made during init, which then fails (-EAGAIN): nothing stays loaded.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/string.h>

static char *fault = "";
module_param(fault, charp, 0);
MODULE_PARM_DESC(fault, "warn, rcu, sleep or lockdep");

static DEFINE_MUTEX(harness_a);
static DEFINE_MUTEX(harness_b);
static int __rcu *harness_ptr;

/* "possible circular locking dependency detected": A then B, later B then A. */
static void harness_lockdep(void)
{
	mutex_lock(&harness_a);
	mutex_lock(&harness_b);
	mutex_unlock(&harness_b);
	mutex_unlock(&harness_a);

	mutex_lock(&harness_b);
	mutex_lock(&harness_a);
	mutex_unlock(&harness_a);
	mutex_unlock(&harness_b);
}

static int __init harness_fault_init(void)
{
	if (!strcmp(fault, "warn")) {
		/* A plain WARN_ON: its "cut here" line is KERN_INFO. */
		WARN_ON(1);
	} else if (!strcmp(fault, "rcu")) {
		/* "suspicious RCU usage": no rcu_read_lock() held. */
		pr_info("harness_fault: %p\n", rcu_dereference(harness_ptr));
	} else if (!strcmp(fault, "sleep")) {
		/* "BUG: sleeping function called from invalid context". */
		preempt_disable();
		might_sleep();
		preempt_enable();
	} else if (!strcmp(fault, "lockdep")) {
		harness_lockdep();
	} else {
		pr_err("harness_fault: unknown fault '%s'\n", fault);
		return -EINVAL;
	}
	return -EAGAIN;
}
module_init(harness_fault_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Kernel reports on demand, for rust_arraymap's harness check");
/* A test-only module: loading it taints the kernel with TAINT_TEST, as KUnit does. */
MODULE_INFO(test, "Y");

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The denial report from Landlock's audit records: what each denial is called, the flag
 * `nono why` names for it, the cap on the list, the footer and the JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit-main.h"
#include "diagnostics.h"
#include "kaudit.h"
#include "plan.h"

static void build(struct plan *p)
{
        plan_init(p);
        p->workdir = strdup("/w");
        p->network_mode = NONO_NETWORK_BLOCK;
        plan_add_grant(p, "/home/u", NONO_ACCESS_READ, 0, "--read");
        plan_add_grant(p, "/home/u/proj", NONO_ACCESS_READWRITE, 0, "--allow");
}

static void denied(struct kaudit_log *l, const char *what)
{
        char text[512];

        snprintf(text, sizeof(text), "audit(1.0:1): domain=1a6fdc679 %s", what);
        kaudit_log_record(l, KAUDIT_LANDLOCK_ACCESS, text, strlen(text));
}

/* Nine different denials of the child's domain, in the kernel's format. */
static struct kaudit_log *landlock_log(void)
{
        static const char domain[] = "audit(1.0:1): domain=1a6fdc679 status=allocated "
                                     "mode=enforcing pid=4242 uid=0 exe=\"/usr/bin/nono\" "
                                     "comm=\"nono\"";
        struct kaudit_log *l = malloc(sizeof(*l));

        CU_ASSERT_PTR_NOT_NULL_FATAL(l);
        kaudit_log_init(l, "/usr/bin/nono", 4200);
        kaudit_log_creator(l, 4242);
        kaudit_log_record(l, KAUDIT_LANDLOCK_DOMAIN, domain, strlen(domain));
        denied(l, "blockers=fs.write_file path=\"/home/u/notes\" dev=\"vda2\" ino=1");
        denied(l, "blockers=fs.read_file path=\"/opt/x\" dev=\"vda2\" ino=2");
        denied(l, "blockers=fs.write_file,fs.read_file path=\"/opt/y\" dev=\"vda2\" ino=3");
        /* A right no grant of nono carries: the grant is there, no flag helps. */
        denied(l, "blockers=fs.make_char path=\"/home/u/proj\" dev=\"vda2\" ino=4");
        denied(l, "blockers=net.connect_tcp daddr=::1 dest=443");
        denied(l, "blockers=net.bind_tcp src=8080");
        denied(l, "blockers=scope.signal opid=1 ocomm=\"systemd\"");
        denied(l, "blockers=scope.abstract_unix_socket path=0064627573");
        /* A control byte in a name is never printed raw; the ninth is not listed. */
        denied(l, "blockers=fs.read_file path=2F746D702F610A62 dev=\"vda2\" ino=5");
        return l;
}

static void expect(const struct diag_denial *x, const char *kind, const char *op,
                   const char *target, const char *blockers, const char *flag)
{
        CU_ASSERT_STRING_EQUAL(x->kind, kind);
        CU_ASSERT_STRING_EQUAL(x->op, op);
        CU_ASSERT_STRING_EQUAL(x->target, target);
        CU_ASSERT_STRING_EQUAL(x->blockers, blockers);
        CU_ASSERT_STRING_EQUAL(x->flag ? x->flag : "(none)", flag ? flag : "(none)");
}

static void test_each_denial_and_its_flag(void)
{
        struct kaudit_log *l = landlock_log();
        struct diagnostics d;
        struct plan p;
        struct diag_sources src;

        build(&p);
        src = (struct diag_sources){.landlock = l, .plan = &p};
        CU_ASSERT_EQUAL_FATAL(diagnostics_collect(&d, 1, &src), 0);
        CU_ASSERT_TRUE(d.landlock_audit);
        CU_ASSERT_EQUAL(d.denied_total, 9);
        CU_ASSERT_EQUAL_FATAL(d.n_denials, 8);
        expect(&d.denials[0], "file", "write", "/home/u/notes", "fs.write_file",
               "--write /home/u/notes");
        expect(&d.denials[1], "file", "read", "/opt/x", "fs.read_file", "--read /opt/x");
        expect(&d.denials[2], "file", "write", "/opt/y", "fs.write_file,fs.read_file",
               "--allow /opt/y");
        expect(&d.denials[3], "file", "write", "/home/u/proj", "fs.make_char", NULL);
        expect(&d.denials[4], "tcp", "connect", "[::1]:443", "net.connect_tcp",
               "--allow-connect-port 443");
        expect(&d.denials[5], "tcp", "bind", "port 8080", "net.bind_tcp", "--listen-port 8080");
        expect(&d.denials[6], "process", "signal", "1 (systemd)", "scope.signal", NULL);
        expect(&d.denials[7], "unix-socket", "connect", "@dbus", "scope.abstract_unix_socket",
               NULL);
        diagnostics_free(&d);
        plan_free(&p);
        free(l);
}

static void test_control_bytes_are_replaced(void)
{
        struct kaudit_log *l = malloc(sizeof(*l));
        struct diag_sources src;
        struct diagnostics d;
        const char *domain = "audit(1.0:1): domain=1a6fdc679 status=allocated mode=enforcing "
                             "pid=4242 uid=0 exe=\"/usr/bin/nono\" comm=\"nono\"";

        CU_ASSERT_PTR_NOT_NULL_FATAL(l);
        kaudit_log_init(l, "/usr/bin/nono", 4200);
        kaudit_log_creator(l, 4242);
        kaudit_log_record(l, KAUDIT_LANDLOCK_DOMAIN, domain, strlen(domain));
        denied(l, "blockers=fs.read_file path=2F746D702F610A62 dev=\"vda2\" ino=5");
        src = (struct diag_sources){.landlock = l};
        CU_ASSERT_EQUAL_FATAL(diagnostics_collect(&d, 1, &src), 0);
        CU_ASSERT_EQUAL_FATAL(d.n_denials, 1);
        CU_ASSERT_STRING_EQUAL(d.denials[0].target, "/tmp/a?b");
        /* Without the plan, no flag is named. */
        CU_ASSERT_PTR_NULL(d.denials[0].flag);
        diagnostics_free(&d);
        free(l);
}

/* The footer as text. */
static char *footer(const struct diagnostics *d, int json)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        diagnostics_print(d, json, f);
        fclose(f);
        return text;
}

static void test_footer_and_json(void)
{
        struct kaudit_log *l = landlock_log();
        struct diagnostics d;
        struct plan p;
        struct diag_sources src;
        char *text;

        build(&p);
        src = (struct diag_sources){.landlock = l, .plan = &p};
        CU_ASSERT_EQUAL_FATAL(diagnostics_collect(&d, 1, &src), 0);
        text = footer(&d, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "nono: the sandbox refused write access to "
                                            "/home/u/notes (fs.write_file; allow it with "
                                            "--write /home/u/notes)\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "nono: the sandbox refused connect to TCP [::1]:443 "
                                            "(net.connect_tcp; allow it with "
                                            "--allow-connect-port 443)\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "nono: the sandbox refused signal to process 1 "
                                            "(systemd) (scope.signal; no flag of nono allows "
                                            "it)\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "nono: ... 9 refusals in all\n"));
        free(text);
        text = footer(&d, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"landlock_audit\":true"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"records_lost\":false"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "{\"kind\":\"tcp\",\"op\":\"bind\",\"target\":\"port "
                                            "8080\",\"blockers\":\"net.bind_tcp\","
                                            "\"allow_with\":\"--listen-port 8080\"}"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"blockers\":\"scope.signal\",\"allow_with\":null"));
        free(text);
        diagnostics_free(&d);

        /* The kernel dropped records: the count is a lower bound, and says so. */
        l->lost = 1;
        CU_ASSERT_EQUAL_FATAL(diagnostics_collect(&d, 1, &src), 0);
        text = footer(&d, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "nono: ... more than 9 refusals in all\n"));
        free(text);
        diagnostics_free(&d);
        plan_free(&p);
        free(l);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"each denial and its flag", test_each_denial_and_its_flag},
            {"control bytes are replaced", test_control_bytes_are_replaced},
            {"footer and JSON", test_footer_and_json},
        };
        return RUN_CUNIT("diagnostics", NULL, NULL, cases);
}

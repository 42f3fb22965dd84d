/* SPDX-License-Identifier: Apache-2.0 */
/* nono why: verdicts for paths and hosts, and the plan's JSON round trip (why --self). */
#include <stdlib.h>
#include <string.h>

#include "cunit-main.h"
#include "why.h"

static void build(struct plan *p)
{
        plan_init(p);
        p->workdir = strdup("/w");
        plan_add_grant(p, "/usr", NONO_ACCESS_READ, 0, "group system_read");
        plan_add_grant(p, "/home/u", NONO_ACCESS_READ, 0, "--read");
        plan_add_grant(p, "/home/u/proj", NONO_ACCESS_READWRITE, 0, "--allow");
        plan_add_grant(p, "/etc/hosts", NONO_ACCESS_READ, NONO_GRANT_FILE, "group system_read");
        plan_add_deny(p, "/home/u/.ssh", "group deny_credentials");
        plan_add_deny(p, "/home/u/.local/state/nono", "nono's state");
        strv_push(&p->readonly_paths, "/home/u/proj/.git/hooks");
}

static void path_verdict(const struct plan *p, const char *path, int op, int missing, int allowed,
                         enum why_rule rule, const char *change)
{
        struct why_query q = {.path = path, .op = op, .path_missing = missing};
        struct why_verdict v;

        CU_ASSERT_EQUAL_FATAL(why_decide(p, &q, &v), 0);
        CU_ASSERT_EQUAL(v.allowed, allowed);
        CU_ASSERT_EQUAL(v.rule, rule);
        if (change && (!v.change || strcmp(v.change, change) != 0))
                fprintf(stderr, "\n%s: change %s, want %s\n", path, v.change, change);
        if (change)
                CU_ASSERT_STRING_EQUAL(v.change ? v.change : "(null)", change);
        why_verdict_free(&v);
}

static void test_grants(void)
{
        struct plan p;

        build(&p);
        path_verdict(&p, "/usr/bin/ls", WHY_OP_READ, 0, 1, WHY_RULE_GRANT,
                     "groups.exclude [\"system_read\"] in a profile (to deny it)");
        path_verdict(&p, "/home/u/proj/a.c", WHY_OP_WRITE, 0, 1, WHY_RULE_GRANT,
                     "drop --allow /home/u/proj (to deny it)");
        /* Read comes from the outer grant, write from the inner one. */
        path_verdict(&p, "/home/u/notes", WHY_OP_WRITE, 0, 0, WHY_RULE_GRANT,
                     "--write /home/u/notes");
        path_verdict(&p, "/etc/hosts", WHY_OP_READ, 0, 1, WHY_RULE_GRANT, NULL);
        /* A file grant covers that file only. */
        path_verdict(&p, "/etc/passwd", WHY_OP_READ, 0, 0, WHY_RULE_NONE, "--read /etc/passwd");
        path_verdict(&p, "/opt/x", WHY_OP_WRITE, 0, 0, WHY_RULE_NONE, "--allow /opt/x");
        /* A missing path cannot be granted: its directory is. */
        path_verdict(&p, "/opt/new", WHY_OP_READ, 1, 0, WHY_RULE_NONE, "--read /opt");
        path_verdict(&p, "/w", WHY_OP_READ, 0, 0, WHY_RULE_NONE, "--allow-cwd");
        path_verdict(&p, "/w/src/main.c", WHY_OP_WRITE, 0, 0, WHY_RULE_NONE, "--allow-cwd");
        plan_free(&p);
}

static void test_protected_paths_win(void)
{
        struct plan p;

        build(&p);
        path_verdict(&p, "/home/u/.ssh/id_rsa", WHY_OP_READ, 0, 0, WHY_RULE_PROTECTED,
                     "filesystem.bypass_protection [\"/home/u/.ssh\"] in a profile (protected by "
                     "group deny_credentials)");
        /* Component-wise: .sshfoo is not .ssh. */
        path_verdict(&p, "/home/u/.sshfoo", WHY_OP_READ, 0, 1, WHY_RULE_GRANT, NULL);
        path_verdict(&p, "/home/u/.local/state/nono/audit", WHY_OP_READ, 0, 0, WHY_RULE_PROTECTED,
                     NULL);
        plan_free(&p);
}

static void test_persistence_paths_stay_read_only(void)
{
        struct plan p;

        build(&p);
        path_verdict(&p, "/home/u/proj/.git/hooks/pre-commit", WHY_OP_WRITE, 0, 0,
                     WHY_RULE_READONLY, "--allow-persistence /home/u/proj/.git/hooks");
        path_verdict(&p, "/home/u/proj/.git/hooks/pre-commit", WHY_OP_READ, 0, 1, WHY_RULE_GRANT,
                     NULL);
        plan_free(&p);
}

static void port_verdict(const struct plan *p, const char *host, int port, int allowed,
                         enum why_rule rule)
{
        struct why_query q = {.host = host, .port = port};
        struct why_verdict v;

        CU_ASSERT_EQUAL_FATAL(why_decide(p, &q, &v), 0);
        if (v.allowed != allowed)
                fprintf(stderr, "\n%s: %s\n", host, v.reason);
        CU_ASSERT_EQUAL(v.allowed, allowed);
        CU_ASSERT_EQUAL(v.rule, rule);
        why_verdict_free(&v);
}

static void host_verdict(const struct plan *p, const char *host, int allowed, enum why_rule rule)
{
        port_verdict(p, host, 443, allowed, rule);
}

static void test_hosts(void)
{
        struct plan p;

        build(&p);
        host_verdict(&p, "example.com", 1, WHY_RULE_NETWORK);
        p.network_mode = NONO_NETWORK_BLOCK;
        host_verdict(&p, "example.com", 0, WHY_RULE_NETWORK);
        p.network_mode = NONO_NETWORK_PROXY;
        strv_push(&p.allowed_hosts, "api.openai.com");
        strv_push(&p.allowed_hosts, "*.github.com");
        host_verdict(&p, "API.OpenAI.com", 1, WHY_RULE_HOST);
        host_verdict(&p, "raw.github.com", 1, WHY_RULE_HOST);
        host_verdict(&p, "github.com", 0, WHY_RULE_NONE);     /* apex not matched */
        host_verdict(&p, "evilgithub.com", 0, WHY_RULE_NONE); /* not a subdomain */
        host_verdict(&p, "169.254.169.254", 0, WHY_RULE_METADATA);
        host_verdict(&p, "fe80::1", 0, WHY_RULE_METADATA);
        host_verdict(&p, "metadata.google.internal", 0, WHY_RULE_METADATA);
        host_verdict(&p, "10.0.0.1", 0, WHY_RULE_NONE);
        /* Ports as the proxy scopes them: 443 and 80 without one in the entry. */
        strv_push(&p.allowed_hosts, "db.example.com:5432");
        strv_push(&p.allowed_hosts, "[::1]:8080");
        port_verdict(&p, "api.openai.com", 80, 1, WHY_RULE_HOST);
        port_verdict(&p, "api.openai.com", 22, 0, WHY_RULE_NONE);
        port_verdict(&p, "db.example.com", 5432, 1, WHY_RULE_HOST);
        port_verdict(&p, "db.example.com", 443, 0, WHY_RULE_NONE);
        port_verdict(&p, "::1", 8080, 1, WHY_RULE_HOST);
        plan_free(&p);
}

static void tcp_verdict(const struct plan *p, int port, int bind, int allowed, const char *change)
{
        struct why_query q = {.tcp_port = port, .tcp_bind = bind};
        struct why_verdict v;

        CU_ASSERT_EQUAL_FATAL(why_decide(p, &q, &v), 0);
        CU_ASSERT_EQUAL(v.allowed, allowed);
        CU_ASSERT_STRING_EQUAL(v.change ? v.change : "(null)", change ? change : "(null)");
        why_verdict_free(&v);
}

/* Landlock's TCP rules (the denial report): the port flags, not the proxy's list. */
static void test_tcp_ports(void)
{
        struct plan p;

        build(&p);
        p.network_mode = NONO_NETWORK_BLOCK;
        plan_add_port(&p, 0, 5432);
        plan_add_port(&p, 1, 8080);
        tcp_verdict(&p, 5432, 0, 1, NULL);
        tcp_verdict(&p, 9, 0, 0, "--allow-connect-port 9");
        tcp_verdict(&p, 8080, 1, 1, NULL);
        tcp_verdict(&p, 5432, 1, 0, "--listen-port 5432");
        p.network_mode = NONO_NETWORK_PROXY;
        tcp_verdict(&p, 443, 0, 0, "--allow-connect-port 443");
        p.network_mode = NONO_NETWORK_ALLOW;
        tcp_verdict(&p, 9, 0, 1, NULL);
        plan_free(&p);
}

static void test_json_output(void)
{
        struct plan p;
        struct why_query q = {.path = "/home/u/.ssh/id_rsa", .op = WHY_OP_READ};
        struct why_verdict v;
        json_t *j;

        build(&p);
        CU_ASSERT_EQUAL_FATAL(why_decide(&p, &q, &v), 0);
        j = why_to_json(&q, &v);
        CU_ASSERT_PTR_NOT_NULL_FATAL(j);
        CU_ASSERT_TRUE(json_is_false(json_object_get(j, "allowed")));
        CU_ASSERT_STRING_EQUAL(
            json_string_value(json_object_get(json_object_get(j, "rule"), "origin")),
            "group deny_credentials");
        json_decref(j);
        why_verdict_free(&v);
        plan_free(&p);
}

static void test_plan_json_round_trip(void)
{
        struct plan p, back;
        char *a, *b;

        build(&p);
        p.network_mode = NONO_NETWORK_PROXY;
        strv_push(&p.allowed_hosts, "*.github.com");
        plan_add_port(&p, 0, 8080);
        strv_push(&p.env_set, "TOKEN=secret-value");
        p.allow_unix_datagrams = 1;
        a = plan_to_json(&p);
        CU_ASSERT_PTR_NULL(strstr(a, "secret-value"));
        CU_ASSERT_EQUAL_FATAL(plan_from_json(a, &back), 0);
        b = plan_to_json(&back);
        /* Everything but the environment (names only, not read back) survives. */
        CU_ASSERT_EQUAL(back.n_grants, p.n_grants);
        CU_ASSERT_EQUAL(back.n_denies, p.n_denies);
        CU_ASSERT_EQUAL(back.network_mode, NONO_NETWORK_PROXY);
        CU_ASSERT_STRING_EQUAL(back.allowed_hosts.items[0], "*.github.com");
        CU_ASSERT_EQUAL(back.n_connect_ports, 1);
        CU_ASSERT_STRING_EQUAL(back.readonly_paths.items[0], "/home/u/proj/.git/hooks");
        CU_ASSERT_EQUAL(back.grants[3]->flags, NONO_GRANT_FILE);
        CU_ASSERT_EQUAL(back.allow_unix_datagrams, 1);
        plan_free(&back);
        CU_ASSERT_EQUAL(plan_from_json("{\"grants\": 3}", &back) < 0, 1);
        CU_ASSERT_EQUAL(plan_from_json("not json", &back) < 0, 1);
        free(a);
        free(b);
        plan_free(&p);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"grants, and the flag that grants", test_grants},
            {"protected paths win over grants", test_protected_paths_win},
            {"persistence paths stay read-only", test_persistence_paths_stay_read_only},
            {"hosts by network mode and allow list", test_hosts},
            {"TCP ports of Landlock's rules", test_tcp_ports},
            {"JSON output", test_json_output},
            {"plan JSON round trip", test_plan_json_round_trip},
        };
        return RUN_CUNIT("why", NULL, NULL, cases);
}

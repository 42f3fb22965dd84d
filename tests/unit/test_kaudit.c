/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Landlock audit records: parsing the kernel's text and keeping only the denials of
 * domains that nono's own child created.  The records are in the format of
 * security/landlock/audit.c and lsm_audit.c, as they arrive on the netlink socket.
 */
#include <stdlib.h>
#include <string.h>

#include "cunit-main.h"
#include "kaudit.h"

#define NONO_EXE "/usr/bin/nono"
#define NONO     4200
#define CHILD    4242

static struct kaudit_log *new_log(void)
{
        struct kaudit_log *l = malloc(sizeof(*l));

        CU_ASSERT_PTR_NOT_NULL_FATAL(l);
        kaudit_log_init(l, NONO_EXE, NONO);
        CU_ASSERT_EQUAL(kaudit_log_creator(l, CHILD), 0);
        return l;
}

static void feed(struct kaudit_log *l, int type, const char *text)
{
        kaudit_log_record(l, type, text, strlen(text));
}

static void access_record(struct kaudit_log *l, const char *text)
{
        feed(l, KAUDIT_LANDLOCK_ACCESS, text);
}

static void domain_record(struct kaudit_log *l, const char *text)
{
        feed(l, KAUDIT_LANDLOCK_DOMAIN, text);
}

static const char ours[] = "audit(1729738800.221:33): domain=1a6fdc679 status=allocated "
                           "mode=enforcing pid=4242 uid=0 exe=\"/usr/bin/nono\" comm=\"nono\"";

static void test_file_denial_of_our_domain(void)
{
        struct kaudit_log *l = new_log();
        const struct kaudit_denial *d = &l->denials[0];

        /* The access record comes first; the domain record right after it. */
        access_record(l, "audit(1729738800.221:33): domain=1a6fdc679 "
                         "blockers=fs.write_file,fs.truncate path=\"/var/tmp/t/out/target\" "
                         "dev=\"vda2\" ino=143821");
        CU_ASSERT_EQUAL(l->n_denials, 0);
        domain_record(l, ours);
        CU_ASSERT_EQUAL_FATAL(l->n_denials, 1);
        CU_ASSERT_EQUAL(d->object, KAUDIT_OBJECT_PATH);
        CU_ASSERT_STRING_EQUAL(d->blockers, "fs.write_file,fs.truncate");
        CU_ASSERT_STRING_EQUAL(d->path, "/var/tmp/t/out/target");
        /* Later ones of the same domain are known at once. */
        access_record(l, "audit(1729738800.230:34): domain=1a6fdc679 blockers=fs.read_file "
                         "path=\"/etc/shadow\" dev=\"vda2\" ino=12");
        CU_ASSERT_EQUAL(l->n_denials, 2);
        CU_ASSERT_EQUAL(l->total, 2);
        free(l);
}

static void test_foreign_domains_are_ignored(void)
{
        struct kaudit_log *l = new_log();

        /* Another sandbox on the machine, interleaved with ours. */
        access_record(l, "audit(1.0:40): domain=2b0000001 blockers=fs.read_file "
                         "path=\"/var/tmp/t/foreign\" dev=\"vda2\" ino=7");
        access_record(l, "audit(1.0:41): domain=1a6fdc679 blockers=fs.read_dir "
                         "path=\"/var/tmp/t/out\" dev=\"vda2\" ino=8");
        domain_record(l, "audit(1.0:40): domain=2b0000001 status=allocated mode=enforcing "
                         "pid=999 uid=0 exe=\"/usr/bin/python3.11\" comm=\"python3\"");
        domain_record(l, "audit(1.0:41): domain=1a6fdc679 status=allocated mode=enforcing "
                         "pid=4242 uid=0 exe=\"/usr/bin/nono\" comm=\"nono\"");
        access_record(l, "audit(1.0:42): domain=2b0000001 blockers=fs.read_file "
                         "path=\"/var/tmp/t/foreign2\" dev=\"vda2\" ino=9");
        /* Our child's pid, but another program: a recycled pid, not our sandbox. */
        access_record(l, "audit(1.0:43): domain=3c0000001 blockers=fs.read_file "
                         "path=\"/var/tmp/t/recycled\" dev=\"vda2\" ino=10");
        domain_record(l, "audit(1.0:43): domain=3c0000001 status=allocated mode=enforcing "
                         "pid=4242 uid=0 exe=\"/usr/bin/python3.11\" comm=\"python3\"");
        /* A domain whose record never came. */
        access_record(l, "audit(1.0:44): domain=4d0000001 blockers=fs.read_file "
                         "path=\"/var/tmp/t/unknown\" dev=\"vda2\" ino=11");
        CU_ASSERT_EQUAL_FATAL(l->n_denials, 1);
        CU_ASSERT_STRING_EQUAL(l->denials[0].path, "/var/tmp/t/out");
        CU_ASSERT_EQUAL(l->total, 1);
        free(l);
}

static void test_several_domains_of_ours(void)
{
        struct kaudit_log *l = new_log();

        CU_ASSERT_EQUAL(kaudit_log_creator(l, 4243), 0);
        domain_record(l, ours);
        access_record(l, "audit(1.0:50): domain=1a6fdc67a blockers=fs.execute "
                         "path=\"/opt/tool\" dev=\"vda2\" ino=3");
        domain_record(l, "audit(1.0:50): domain=1a6fdc67a status=allocated mode=enforcing "
                         "pid=4243 uid=1000 exe=\"/usr/bin/nono\" comm=\"nono\"");
        access_record(l, "audit(1.0:51): domain=1a6fdc679 blockers=fs.make_reg "
                         "path=\"/var/tmp/t/out\" dev=\"vda2\" ino=8");
        CU_ASSERT_EQUAL_FATAL(l->n_denials, 2);
        CU_ASSERT_STRING_EQUAL(l->denials[0].path, "/opt/tool");
        CU_ASSERT_STRING_EQUAL(l->denials[1].blockers, "fs.make_reg");
        /* The end of a domain is no denial. */
        domain_record(l, "audit(1.1:52): domain=1a6fdc679 status=deallocated denials=3");
        CU_ASSERT_EQUAL(l->total, 2);
        free(l);
}

static void test_hex_encoded_strings(void)
{
        struct kaudit_log *l = malloc(sizeof(*l));

        /* Spaces, quotes and bytes outside printable ASCII come hex-encoded, in the
         * domain's exe too. */
        kaudit_log_init(l, "/opt/my tools/nono", NONO);
        kaudit_log_creator(l, CHILD);
        access_record(l, "audit(1.0:60): domain=1a6fdc679 blockers=fs.read_file "
                         "path=2F7661722F746D702F6120622F66696C65 dev=\"vda2\" ino=5");
        domain_record(l, "audit(1.0:60): domain=1a6fdc679 status=allocated mode=enforcing "
                         "pid=4242 uid=0 exe=2F6F70742F6D7920746F6F6C732F6E6F6E6F comm=\"nono\"");
        access_record(l, "audit(1.0:61): domain=1a6fdc679 blockers=fs.read_file "
                         "path=2F746D702F22710A22 dev=\"vda2\" ino=6");
        /* An abstract socket's name starts with a NUL byte. */
        access_record(l, "audit(1.0:62): domain=1a6fdc679 blockers=scope.abstract_unix_socket "
                         "path=00646275732D6162");
        CU_ASSERT_EQUAL_FATAL(l->n_denials, 3);
        CU_ASSERT_STRING_EQUAL(l->denials[0].path, "/var/tmp/a b/file");
        CU_ASSERT_STRING_EQUAL(l->denials[1].path, "/tmp/\"q\n\"");
        CU_ASSERT_STRING_EQUAL(l->denials[2].path, "@dbus-ab");
        free(l);
}

static void test_network_and_processes(void)
{
        struct kaudit_log *l = new_log();
        const struct kaudit_denial *d = l->denials;

        domain_record(l, ours);
        access_record(l, "audit(1.0:70): domain=1a6fdc679 blockers=net.connect_tcp "
                         "daddr=127.0.0.1 dest=9");
        /* After a bind, the kernel adds the local end; the refused end is the remote. */
        access_record(l, "audit(1.0:71): domain=1a6fdc679 blockers=net.connect_tcp "
                         "laddr=127.0.0.1 lport=40000 daddr=::1 dest=443");
        /* A bind to any address names the port only. */
        access_record(l, "audit(1.0:72): domain=1a6fdc679 blockers=net.bind_tcp src=8080");
        access_record(l, "audit(1.0:73): domain=1a6fdc679 blockers=scope.signal opid=1 "
                         "ocomm=\"systemd\"");
        /* The mediator's helper checking the signal scope on nono: not the command's. */
        access_record(l, "audit(1.0:73): domain=1a6fdc679 blockers=scope.signal opid=4200 "
                         "ocomm=\"nono\"");
        access_record(l, "audit(1.0:74): domain=1a6fdc679 blockers=fs.change_topology "
                         "name=\"mnt\" dev=\"tmpfs\" ino=2");
        CU_ASSERT_EQUAL_FATAL(l->n_denials, 5);
        CU_ASSERT_EQUAL(d[0].object, KAUDIT_OBJECT_TCP);
        CU_ASSERT_STRING_EQUAL(d[0].addr, "127.0.0.1");
        CU_ASSERT_EQUAL(d[0].port, 9);
        CU_ASSERT_STRING_EQUAL(d[1].addr, "::1");
        CU_ASSERT_EQUAL(d[1].port, 443);
        CU_ASSERT_STRING_EQUAL(d[2].blockers, "net.bind_tcp");
        CU_ASSERT_STRING_EQUAL(d[2].addr, "");
        CU_ASSERT_EQUAL(d[2].port, 8080);
        CU_ASSERT_EQUAL(d[3].object, KAUDIT_OBJECT_PROCESS);
        CU_ASSERT_EQUAL(d[3].pid, 1);
        CU_ASSERT_STRING_EQUAL(d[3].comm, "systemd");
        CU_ASSERT_EQUAL(d[4].object, KAUDIT_OBJECT_NONE);
        CU_ASSERT_STRING_EQUAL(d[4].blockers, "fs.change_topology");
        free(l);
}

static void test_repeats_and_the_cap(void)
{
        struct kaudit_log *l = new_log();
        char text[256];

        domain_record(l, ours);
        for (int i = 0; i < 3; i++)
                access_record(l, "audit(1.0:80): domain=1a6fdc679 blockers=fs.read_file "
                                 "path=\"/etc/shadow\" dev=\"vda2\" ino=12");
        CU_ASSERT_EQUAL(l->n_denials, 1);
        CU_ASSERT_EQUAL(l->total, 3);
        for (int i = 0; i < KAUDIT_MAX_DENIALS + 2; i++) {
                snprintf(text, sizeof(text),
                         "audit(1.0:%d): domain=1a6fdc679 blockers=fs.read_file "
                         "path=\"/data/%d\" dev=\"vda2\" ino=%d",
                         90 + i, i, i);
                access_record(l, text);
        }
        CU_ASSERT_EQUAL(l->n_denials, KAUDIT_MAX_DENIALS);
        CU_ASSERT_EQUAL(l->total, 3 + KAUDIT_MAX_DENIALS + 2);
        free(l);
}

static void test_malformed_records(void)
{
        struct kaudit_log *l = new_log();
        char cut[] = "audit(1.0:100): domain=1a6fdc679 blockers=fs.read_file path=\"/etc/pas";

        domain_record(l, ours);
        access_record(l, "audit(1.0:101): blockers=fs.read_file path=\"/no/domain\"");
        access_record(l, "audit(1.0:102): domain=zz blockers=fs.read_file path=\"/bad\"");
        access_record(l, "audit(1.0:103): domain=1a6fdc679 path=\"/no/blockers\"");
        access_record(l, "");
        access_record(l, "audit(1.0:104): domain=1a6fdc679 blockers=fs.read_file path=ABC");
        /* Other record types are not looked at. */
        feed(l, 1300, "audit(1.0:105): arch=c000003e syscall=257 success=no exit=-13");
        CU_ASSERT_EQUAL_FATAL(l->n_denials, 1);
        /* Odd-length "hex" is no hex: taken as it stands. */
        CU_ASSERT_STRING_EQUAL(l->denials[0].path, "ABC");
        /* A record cut short keeps what it had, within its length. */
        kaudit_log_record(l, KAUDIT_LANDLOCK_ACCESS, cut, strlen(cut));
        CU_ASSERT_EQUAL_FATAL(l->n_denials, 2);
        CU_ASSERT_STRING_EQUAL(l->denials[1].path, "/etc/pas");
        free(l);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"a file denial of our domain", test_file_denial_of_our_domain},
            {"foreign domains are ignored", test_foreign_domains_are_ignored},
            {"several domains of ours", test_several_domains_of_ours},
            {"hex-encoded strings", test_hex_encoded_strings},
            {"network and processes", test_network_and_processes},
            {"repeats and the cap", test_repeats_and_the_cap},
            {"malformed records", test_malformed_records},
        };
        return RUN_CUNIT("kaudit", NULL, NULL, cases);
}

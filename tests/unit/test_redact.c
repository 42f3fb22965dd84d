/* SPDX-License-Identifier: Apache-2.0 */
/* Redaction of command arguments for the audit log. */
#include <stdlib.h>
#include <string.h>

#include "cunit-main.h"
#include "redact.h"

static void expect(const char *arg, const char *prev, const char *want)
{
        char *got = redact_arg(arg, prev);

        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        if (strcmp(got, want) != 0)
                fprintf(stderr, "\nredact(%s) = %s, want %s\n", arg, got, want);
        CU_ASSERT_STRING_EQUAL(got, want);
        free(got);
}

static void test_secret_options(void)
{
        expect("--token=abc", NULL, "--token=" REDACTED);
        expect("--api-key=hunter2", NULL, "--api-key=" REDACTED);
        expect("--password=x", NULL, "--password=" REDACTED);
        expect("hunter2", "--token", REDACTED);
        expect("hunter2", "-password", REDACTED);
        expect("hunter2", "--client-secret", REDACTED);
        /* The next option is not a value. */
        expect("--verbose", "--token", "--verbose");
}

static void test_secret_variables(void)
{
        expect("OPENAI_API_KEY=abc", NULL, "OPENAI_API_KEY=" REDACTED);
        expect("GITHUB_TOKEN=abc", NULL, "GITHUB_TOKEN=" REDACTED);
        expect("my_secret=abc", NULL, "my_secret=" REDACTED);
        expect("AWS_SECRET_ACCESS_KEY=abc", NULL, "AWS_SECRET_ACCESS_KEY=" REDACTED);
        expect("PATH=/usr/bin", NULL, "PATH=/usr/bin");
}

static void test_token_formats(void)
{
        expect("sk-proj-abcdefghijklmnop", NULL, REDACTED);
        expect("ghp_0123456789abcdefABCDEF", NULL, REDACTED);
        expect("github_pat_11ABCDEFG0123456789", NULL, REDACTED);
        expect("AKIAIOSFODNN7EXAMPLE", NULL, REDACTED);
        expect("xoxb-123456789012-abcdef", NULL, REDACTED);
        expect("Authorization: Bearer sk-abcdefghijklmnop", NULL,
               "Authorization: Bearer " REDACTED);
        expect("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXh5eg", NULL, REDACTED);
}

static void test_high_entropy_words(void)
{
        expect("q8Zr3Lm0Vx7Tn2Kp5Wc9Yb4Hd6", NULL, REDACTED);
        expect("x=q8Zr3Lm0Vx7Tn2Kp5Wc9Yb4Hd6", NULL, "x=" REDACTED);
}

static void test_urls(void)
{
        expect("https://user:hunter2@example.com/repo.git", NULL,
               "https://user:" REDACTED "@example.com/repo.git");
        expect("https://example.com/a:b@c", NULL, "https://example.com/a:b@c");
}

static void test_ordinary_arguments_survive(void)
{
        const char *keep[] = {
            "/usr/lib/x86_64-linux-gnu/libSomething2024.so.1",
            "3f786850e387550fdab836ed7e6dc881de23001b", /* a git commit id */
            "123e4567-e89b-12d3-a456-426614174000",     /* a UUID */
            "SomeLongCamelCaseIdentifierName",
            "--verbose",
            "echo hello world",
            "-c",
            "sk-",
        };

        for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
                expect(keep[i], "-c", keep[i]);
}

static void test_argv_json(void)
{
        char a0[] = "curl", a1[] = "-H", a2[] = "Authorization: Bearer ghp_0123456789abcdefABCDEF",
             a3[] = "--token", a4[] = "s3cr3t", a5[] = "https://example.com";
        char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
        json_t *a = redact_argv_json(argv);
        char *text = json_dumps(a, JSON_COMPACT);

        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_PTR_NULL(strstr(text, "ghp_"));
        CU_ASSERT_PTR_NULL(strstr(text, "s3cr3t"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "https://example.com"));
        CU_ASSERT_EQUAL(json_array_size(a), 6);
        free(text);
        json_decref(a);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"values of secret-named options", test_secret_options},
            {"values of secret-named variables", test_secret_variables},
            {"well-known token formats", test_token_formats},
            {"long high-entropy words", test_high_entropy_words},
            {"passwords in URLs", test_urls},
            {"ordinary arguments survive", test_ordinary_arguments_survive},
            {"argv as JSON", test_argv_json},
        };
        return RUN_CUNIT("redact", NULL, NULL, cases);
}

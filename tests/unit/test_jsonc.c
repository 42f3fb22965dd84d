/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "cunit-main.h"
#include "error.h"
#include "jsonc.h"

static int parse(const char *text, struct jsonc_doc *doc)
{
        return jsonc_parse(text, strlen(text), doc);
}

static void test_comments_outside_strings(void)
{
        const char *text = "{ // a comment with \"quotes\"\n"
                           "  \"url\": \"http://example.com/*x*/\", /* block */\n"
                           "  \"esc\": \"a\\\"//b\"\n"
                           "}\n";
        struct jsonc_doc doc;

        CU_ASSERT_EQUAL_FATAL(parse(text, &doc), 0);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc.root, "url")),
                               "http://example.com/*x*/");
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc.root, "esc")), "a\"//b");
        CU_ASSERT_EQUAL(json_object_size(doc.root), 2);
        jsonc_doc_free(&doc);
}

static void test_error_lines_survive_comments(void)
{
        const char *text = "{\n"
                           "  /* one\n"
                           "     two\n"
                           "     three */\n"
                           "  \"a\": 1,,\n"
                           "}\n";
        struct jsonc_doc doc;

        CU_ASSERT_EQUAL(parse(text, &doc), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "line 5: "));
}

static void test_unterminated_comment(void)
{
        struct jsonc_doc doc;

        CU_ASSERT_EQUAL(parse("{\n\"a\": 1 /* open\n}\n", &doc), -EINVAL);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "line 2: unterminated comment");
}

static void test_duplicate_keys_refused(void)
{
        struct jsonc_doc doc;

        CU_ASSERT_EQUAL(parse("{\"a\": 1,\n \"a\": 2}", &doc), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "line 2: "));
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "duplicate"));
}

static void test_key_line(void)
{
        const char *text = "{\n"
                           "  \"x\": \"\\\"b\\\": 1\",\n"       /* line 2: "b": inside a string */
                           "  // \"a\": {\"b\": 0},\n"          /* line 3: commented out */
                           "  \"list\": [{\"b\": 1}, \"a\"],\n" /* line 4 */
                           "  \"a\": {\n"                       /* line 5 */
                           "    \"c\": {\"b\": 3},\n"           /* line 6 */
                           "    \"b\"  :  2\n"                  /* line 7 */
                           "  }\n"
                           "}\n";
        const char *ab[] = {"a", "b"}, *acb[] = {"a", "c", "b"}, *missing[] = {"a", "z"};
        struct jsonc_doc doc;

        CU_ASSERT_EQUAL_FATAL(parse(text, &doc), 0);
        CU_ASSERT_EQUAL(jsonc_key_line(&doc, ab, 1), 5);
        CU_ASSERT_EQUAL(jsonc_key_line(&doc, ab, 2), 7);
        CU_ASSERT_EQUAL(jsonc_key_line(&doc, acb, 3), 6);
        CU_ASSERT_EQUAL(jsonc_key_line(&doc, missing, 2), 0);
        jsonc_doc_free(&doc);
}

static void test_path_error_and_strings(void)
{
        const char *text =
            "{\n  \"fs\": {\n    \"allow\": [\"a\", \"\"],\n    \"read\": 3\n  }\n}\n";
        struct jsonc_doc doc;
        struct jsonc_path p;
        struct strv v = STRV_INIT;
        json_t *fs;

        CU_ASSERT_EQUAL_FATAL(parse(text, &doc), 0);
        fs = json_object_get(doc.root, "fs");
        jsonc_path_init(&p, &doc);
        CU_ASSERT_EQUAL(jsonc_path_push(&p, "fs"), 0);
        CU_ASSERT_EQUAL(jsonc_path_push(&p, "read"), 0);
        CU_ASSERT_STRING_EQUAL(jsonc_path_dotted(&p), "fs.read");
        CU_ASSERT_EQUAL(jsonc_get_strings(&p, json_object_get(fs, "read"), &v), -EINVAL);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "line 4: \"fs.read\" must be an array of strings");
        jsonc_path_pop(&p);
        CU_ASSERT_EQUAL(jsonc_path_push(&p, "allow"), 0);
        CU_ASSERT_EQUAL(jsonc_get_strings(&p, json_object_get(fs, "allow"), &v), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "line 3: \"fs.allow\""));
        jsonc_path_pop(&p);
        jsonc_path_pop(&p);
        CU_ASSERT_STRING_EQUAL(jsonc_path_dotted(&p), "");
        strv_free(&v);
        jsonc_doc_free(&doc);
}

static void test_missing_file(void)
{
        struct jsonc_doc doc;

        CU_ASSERT_EQUAL(jsonc_load_file("/nonexistent/nono/p.json", &doc), -ENOENT);
        CU_ASSERT_PTR_NULL(doc.root);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"comments outside strings", test_comments_outside_strings},
            {"error lines survive comments", test_error_lines_survive_comments},
            {"unterminated comment", test_unterminated_comment},
            {"duplicate keys refused", test_duplicate_keys_refused},
            {"key line", test_key_line},
            {"path errors and string arrays", test_path_error_and_strings},
            {"missing file", test_missing_file},
        };

        return RUN_CUNIT("jsonc", NULL, NULL, cases);
}

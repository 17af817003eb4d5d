/* http_path: the normalized request path routes match on (RFC 3986 6). */
#include <criterion/criterion.h>
#include <string.h>

#include "http_path.h"

static const char *norm(const char *in)
{
    static char out[256];
    size_t n;
    int rc = http_path_normalize(in, strlen(in), out, sizeof out - 1, &n);
    if (rc == HTTP_PATH_ABOVE_ROOT)
        return "(above root)";
    if (rc == HTTP_PATH_TOO_LONG)
        return "(too long)";
    out[n] = 0;
    return out;
}

Test(http_path, dot_segments_and_slashes)
{
    cr_assert_str_eq(norm("/"), "/");
    cr_assert_str_eq(norm("/a/b"), "/a/b");
    cr_assert_str_eq(norm("/x/../admin/"), "/admin/");
    cr_assert_str_eq(norm("/a/./b/."), "/a/b/");
    cr_assert_str_eq(norm("/a/b/.."), "/a/");
    cr_assert_str_eq(norm("//admin///x"), "/admin/x");
    cr_assert_str_eq(norm("/a//.."), "/");
    cr_assert_str_eq(norm("/a/..b/c.."), "/a/..b/c..");
    cr_assert_str_eq(norm("/a/../../x"), "(above root)");
    cr_assert_str_eq(norm("/.."), "(above root)");
}

Test(http_path, percent_encoding)
{
    cr_assert_str_eq(norm("/%61dmin/"), "/admin/");
    cr_assert_str_eq(norm("/x/%2e%2e/admin"), "/admin", "encoded dots are dots");
    cr_assert_str_eq(norm("/x/%2E%2E/%2E%2E/y"), "(above root)");
    cr_assert_str_eq(norm("/x%2F..%2Fadmin/"), "/x%2F..%2Fadmin/", "an encoded slash is not a separator");
    cr_assert_str_eq(norm("/a%2fb"), "/a%2Fb", "other escapes upper-cased");
    cr_assert_str_eq(norm("/100%"), "/100%", "a stray % is kept");
    cr_assert_str_eq(norm("/%zz"), "/%zz");
}

Test(http_path, query_kept_and_odd_targets)
{
    cr_assert_str_eq(norm("/a/../b?x=/../y&z=%61"), "/b?x=/../y&z=%61");
    cr_assert_str_eq(norm("*"), "*");
    cr_assert(!http_path_may_change("/plain/path?q=//x", 17));
    cr_assert(http_path_may_change("/a//b", 5));
    cr_assert(http_path_may_change("/a/./b", 6));
    cr_assert(http_path_may_change("/%61", 4));
    char small[4];
    size_t n;
    cr_assert_eq(http_path_normalize("/abcdef", 7, small, sizeof small, &n), HTTP_PATH_TOO_LONG);
}

/* Unit tests for ck.switch's XML edit: only the <node> list changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "act_int.h"
#include "ck_int.h"

static const char metrika[] =
	"<?xml version=\"1.0\"?>\n"
	"<yandex>\n"
	"    <!-- zk集群 / the ZooKeeper ensemble -->\n"
	"    <zookeeper-servers>\n"
	"        <node index=\"1\">\n"
	"            <host>172.26.25.109</host>\n"
	"            <port>2181</port>\n"
	"        </node>\n"
	"        <node index=\"2\">\n"
	"            <host>172.26.18.214</host>\n"
	"            <port>2181</port>\n"
	"        </node>\n"
	"        <node index=\"3\">\n"
	"            <host>172.26.25.125</host>\n"
	"            <port>2181</port>\n"
	"        </node>\n"
	"        <session_timeout_ms>30000</session_timeout_ms>\n"
	"        <root>/clickhouse</root>\n"
	"        <identity>user:secret</identity>\n"
	"    </zookeeper-servers>\n"
	"    <macros replica=\"r1\"><shard>01</shard></macros>\n"
	"</yandex>\n";

static struct inv_zk_node old_nodes[] = {
	{.name = "old1", .myid = 1, .host = "172.26.25.109", .client_port = 2181},
	{.name = "old2", .myid = 2, .host = "172.26.18.214", .client_port = 2181},
	{.name = "old3", .myid = 3, .host = "172.26.25.125", .client_port = 2181},
};
static struct inv_zk_node new_nodes[] = {
	{.name = "new1", .myid = 1, .host = "172.26.53.28", .client_port = 2181},
	{.name = "new2", .myid = 2, .host = "172.26.64.167", .client_port = 2181},
	{.name = "new3", .myid = 3, .host = "172.26.64.168", .client_port = 2181},
};

static void test_ck_switch_replaces_only_the_nodes_and_round_trips(void **state)
{
	(void)state;
	struct inv_ensemble old = {.name = "old", .nodes = old_nodes, .n = 3};
	struct inv_ensemble neu = {.name = "new", .nodes = new_nodes, .n = 3};
	char before[512], after[512];
	struct cut_err e;
	char *to_new = ck_switch_render(metrika, strlen(metrika), &neu, before, sizeof before, &e);
	assert_non_null(to_new);
	assert_string_equal(before, "172.26.25.109:2181,172.26.18.214:2181,172.26.25.125:2181");
	assert_int_equal(ck_switch_hosts(to_new, strlen(to_new), after, sizeof after, &e), CUT_OK);
	assert_string_equal(after, "172.26.53.28:2181,172.26.64.167:2181,172.26.64.168:2181");
	assert_non_null(strstr(to_new, "<!-- zk集群 / the ZooKeeper ensemble -->"));
	assert_non_null(strstr(to_new, "<session_timeout_ms>30000</session_timeout_ms>"));
	assert_non_null(strstr(to_new, "<root>/clickhouse</root>"));
	assert_non_null(strstr(to_new, "<identity>user:secret</identity>"));
	assert_non_null(strstr(to_new, "<macros replica=\"r1\"><shard>01</shard></macros>"));
	char *back = ck_switch_render(to_new, strlen(to_new), &old, before, sizeof before, &e);
	assert_non_null(back);
	assert_string_equal(back, metrika); /* byte for byte after the round trip */
	free(to_new);
	free(back);
}

static void test_ck_switch_refuses_broken_and_sectionless_files(void **state)
{
	(void)state;
	struct inv_ensemble neu = {.name = "new", .nodes = new_nodes, .n = 3};
	char before[512];
	struct cut_err e;
	const char broken[] = "<yandex><zookeeper-servers><node></zookeeper-servers>";
	assert_null(ck_switch_render(broken, strlen(broken), &neu, before, sizeof before, &e));
	assert_int_equal(e.code, CUT_EPARSE);
	assert_non_null(strstr(e.msg, "left as it is"));
	const char none[] = "<yandex><macros><shard>01</shard></macros></yandex>";
	assert_null(ck_switch_render(none, strlen(none), &neu, before, sizeof before, &e));
	assert_int_equal(e.code, CUT_EINVAL);
	assert_non_null(strstr(e.msg, "no <zookeeper-servers> or <zookeeper> section"));
	/* the newer <zookeeper> name works too */
	const char newer[] = "<clickhouse><zookeeper><node><host>a</host><port>1</port></node></zookeeper></clickhouse>";
	char *s = ck_switch_render(newer, strlen(newer), &neu, before, sizeof before, &e);
	assert_non_null(s);
	assert_string_equal(before, "a:1");
	free(s);
}

/* Names from a server are hostile: they reach SQL as one quoted identifier each. */
static void test_ck_hostile_table_names_are_quoted_identifiers(void **state)
{
	(void)state;
	char line[] = "lab\tx\\'; touch m; echo \\'\\tq`\\\\\textra";
	char *f[3];
	assert_int_equal(ck_tsv_split(line, f, 3), 3);
	assert_string_equal(f[2], "extra");
	ck_tsv_unescape(f[1]);
	assert_string_equal(f[1], "x'; touch m; echo '\tq`\\");
	char *sql = ck_table_sql("SYSTEM SYNC REPLICA", f[0], f[1]);
	assert_string_equal(sql, "SYSTEM SYNC REPLICA `lab`.`x'; touch m; echo '\tq\\`\\\\`");
	free(sql);
	char two[] = "a\t\tc";
	assert_int_equal(ck_tsv_split(two, f, 3), 3); /* an empty field is a field */
	assert_string_equal(f[1], "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ck_switch_replaces_only_the_nodes_and_round_trips),
		cmocka_unit_test(test_ck_switch_refuses_broken_and_sectionless_files),
		cmocka_unit_test(test_ck_hostile_table_names_are_quoted_identifiers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

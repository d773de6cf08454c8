/* version: `cutover --version`, with the library versions it was built on. */
#include "cli.h"
#include "cutover/ui.h"
#include "cutover/version.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libssh/libssh.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <yaml.h>
#include <zookeeper_version.h>

void cli_print_version(FILE *out)
{
	fprintf(out, "cutover %s\n", CUTOVER_VERSION);
	fprintf(out, "libraries: ncursesw %s, libssh %s, libcurl %s, libxml2 %s, "
		     "sqlite %s, libyaml %s, jansson %s, zookeeper-c %s, %s\n",
		ui_curses_version(), ssh_version(0), curl_version_info(CURLVERSION_NOW)->version,
		LIBXML_DOTTED_VERSION, sqlite3_libversion(), yaml_get_version_string(),
		jansson_version_str(), ZOO_VERSION,
		OpenSSL_version(OPENSSL_VERSION));
}

int cli_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_print_version(stdout);
	return CLI_OK;
}

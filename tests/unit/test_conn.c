/* The client-connection service (src/cmd/conn.c) driven directly, as a
 * new family will drive it, on the test port's in-memory network: the way
 * out, the module's DNS servers, literal and named hosts, UDP, the
 * timeout, TLS settings whose PKI is absent, and close in every phase. */
#include "support.h"

#include "cmd/conn.h"
#include "module_fixture.h"
#include "testport/net_mem.h"

struct probe {
	int calls;  /* done() calls */
	int err;    /* the last one's */
	size_t got; /* bytes data() delivered */
};

static void on_done(void *user, int err)
{
	struct probe *p = user;
	p->calls++;
	p->err = err;
}

static void on_data(void *user, const uint8_t *b, size_t n, const struct espat_endpoint *from)
{
	struct probe *p = user;
	p->got += n;
}

static const struct espat_sock_cbs cbs = {.data = on_data};

static void join(struct fx *f)
{
	cmd(f, "AT+CWMODE=1\r\n", "\r\nOK\r\n");
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
}

static struct espat_conn_req tcp(const char *host, uint16_t port)
{
	return (struct espat_conn_req){
	    .kind = ESPAT_SOCK_TCP, .host = host, .host_len = strlen(host), .port = port};
}

static void no_way_out_fails_at_once(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\n");
	struct espat_conn c;
	struct probe p = {0};
	struct espat_conn_req r = tcp("127.0.0.1", 80);
	int err = 0;
	assert_int_equal(espat_conn_open(&c, &f->m, &r, &cbs, on_done, &p, &err), -1);
	assert_int_equal(err, ESPAT_NET_EUNREACH);
	assert_int_equal(p.calls, 0);
}

static void named_host_goes_through_the_module_dns(void **state)
{
	struct fx *f = *state;
	join(f);
	cmd(f, "AT+CIPDNS=1,\"1.1.1.1\"\r\n", "\r\nOK\r\n");
	struct espat_net_mem *n = &f->tp.net;
	assert_int_equal(espat_net_mem_dns_add(n, "peer.test", espat_mem_ip("10.0.0.7")), 0);
	assert_int_equal(
	    espat_net_mem_serve(n, (struct espat_endpoint){espat_mem_ip("10.0.0.7"), 8883}), 0);
	struct espat_conn c;
	struct probe p = {0};
	struct espat_conn_req r = tcp("peer.test", 8883);
	int err = 0;
	assert_int_equal(espat_conn_open(&c, &f->m, &r, &cbs, on_done, &p, &err), 0);
	assert_int_equal(c.phase, ESPAT_CONN_RESOLVING);
	assert_int_equal(p.calls, 0); /* never from inside the call */
	advance(f, 100);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.err, 0);
	assert_int_equal(c.phase, ESPAT_CONN_UP);
	/* AT+CIPDNS's server was asked, not the host's resolver */
	assert_string_equal(n->dns_last.name, "peer.test");
	assert_int_equal(n->dns_last.nservers, 1);
	assert_memory_equal(n->dns_last.servers[0].a, espat_mem_ip("1.1.1.1").a, 4);
	/* data both ways through the connection */
	assert_int_equal(espat_conn_send(&c, (const uint8_t *)"ping", 4, NULL), 0);
	struct espat_mem_conn *peer = espat_net_mem_last_conn(n);
	assert_non_null(peer);
	assert_int_equal(espat_mem_conn_send(peer, "pong!", 5), 0);
	advance(f, 10);
	assert_int_equal(p.got, 5);
	espat_conn_close(&c, ESPAT_CLOSE_GRACEFUL);
	assert_int_equal(c.phase, ESPAT_CONN_IDLE);
	cmd(f, "AT+CIPDNS=0\r\n", "\r\nOK\r\n");
}

static void a_silent_host_times_out(void **state)
{
	struct fx *f = *state;
	join(f);
	assert_int_equal(espat_net_mem_blackhole(&f->tp.net, espat_mem_ip("10.9.9.9")), 0);
	struct espat_conn c;
	struct probe p = {0};
	struct espat_conn_req r = tcp("10.9.9.9", 80);
	r.timeout_ms = 2500;
	int err = 0;
	assert_int_equal(espat_conn_open(&c, &f->m, &r, &cbs, on_done, &p, &err), 0);
	advance(f, 2400);
	assert_int_equal(p.calls, 0);
	advance(f, 200);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.err, ESPAT_NET_ETIMEDOUT);
	assert_int_equal(c.phase, ESPAT_CONN_IDLE);
}

static void close_while_resolving_calls_nothing(void **state)
{
	struct fx *f = *state;
	join(f);
	f->tp.net.dns_ms = 500;
	assert_int_equal(espat_net_mem_dns_add(&f->tp.net, "slow.test", espat_mem_ip("10.0.0.8")),
	                 0);
	struct espat_conn c;
	struct probe p = {0};
	struct espat_conn_req r = tcp("slow.test", 80);
	int err = 0;
	assert_int_equal(espat_conn_open(&c, &f->m, &r, &cbs, on_done, &p, &err), 0);
	espat_conn_close(&c, ESPAT_CLOSE_ABORT);
	advance(f, 20000);
	assert_int_equal(p.calls, 0);
	f->tp.net.dns_ms = 0;
}

static void udp_to_an_address_is_up_at_once(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_conn c;
	struct probe p = {0};
	struct espat_conn_req r = {
	    .kind = ESPAT_SOCK_UDP, .host = "10.0.0.9", .host_len = 8, .port = 5000};
	int err = 0;
	assert_int_equal(espat_conn_open(&c, &f->m, &r, &cbs, on_done, &p, &err), 1);
	assert_int_equal(c.phase, ESPAT_CONN_UP);
	assert_true(c.local_port != 0);
	advance(f, 10);
	assert_int_equal(p.calls, 0);
	espat_conn_close(&c, ESPAT_CLOSE_ABORT);
}

static void wrong_family_and_absent_pki_refuse(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_conn c;
	struct probe p = {0};
	struct espat_conn_req r = tcp("::1", 80); /* v6 literal, v4 asked */
	int err = 0;
	assert_int_equal(espat_conn_open(&c, &f->m, &r, &cbs, on_done, &p, &err), -1);
	assert_int_equal(err, ESPAT_NET_EINVAL);
	/* a client certificate under an index the manufacturing NVS lacks */
	struct espat_conn_tls tls = {.auth = 1, .set = ESPAT_PKI_CLIENT, .pki = 7};
	r = tcp("127.0.0.1", 443);
	r.tls = &tls;
	assert_int_equal(espat_conn_open(&c, &f->m, &r, &cbs, on_done, &p, &err), -1);
	assert_int_equal(err, ESPAT_NET_ECERT);
	assert_string_equal(
	    espat_pki_missing(
	        &f->m, &(struct espat_pki_need){.set = ESPAT_PKI_CLIENT, .own = true, .pki = 7}),
	    "NO CERT FOUND");
	assert_null(espat_pki_missing(
	    &f->m, &(struct espat_pki_need){.set = ESPAT_PKI_CLIENT, .own = true, .verify = true}));
	assert_int_equal(p.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(no_way_out_fails_at_once, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(named_host_goes_through_the_module_dns, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(a_silent_host_times_out, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(close_while_resolving_calls_nothing, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(udp_to_an_address_is_up_at_once, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(wrong_family_and_absent_pki_refuse, fx_setup,
	                                    fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

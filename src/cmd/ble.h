/* Bluetooth LE (guide 3.4): the GAP and GATT commands over the BLE model
 * (docs/internals/ble.md). So far the controller's life (AT+BLEINIT), the
 * device address (AT+BLEADDR), the device name (AT+BLENAME) and scanning
 * (AT+BLESCANPARAM, AT+BLESCAN) over the BLE port's advertisers;
 * advertising, connections, GATT and SPP follow. */
#ifndef ESPAT_CMD_BLE_H
#define ESPAT_CMD_BLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "port/ble.h"
#include "proto/att.h"
#include "proto/smp_pair.h"
#include "proto/gatt_db.h"
#include "proto/ll_enc.h"

#define ESPAT_BLE_NAME_MAX 32u   /* AT+BLENAME's <device_name> */
#define ESPAT_BLE_FILTER_MAX 32u /* AT+BLESCAN's <filter_param>: a MAC or a name */

/* AT+BLESCANPARAM (units of 0.625 ms for the interval and the window). */
struct espat_ble_scan_param {
	uint8_t type; /* 0 passive, 1 active (scan responses) */
	uint8_t own_addr_type;
	uint8_t filter_policy;
	uint16_t interval; /* 0x0004..0x4000, >= window */
	uint16_t window;
};

/* AT+BLEADVPARAM (intervals in units of 0.625 ms). */
struct espat_ble_adv_param {
	uint16_t int_min, int_max; /* 0x0020..0x4000, min <= max */
	uint8_t type;              /* 0 ADV_IND .. 7 EXT_SCANNABLE_IND */
	uint8_t own_addr_type;     /* 0 public, 1 random */
	uint8_t channel_map;       /* 1 ch37, 2 ch38, 4 ch39, 7 all */
	uint8_t filter_policy;
	uint8_t peer_addr_type;
	uint8_t peer_addr[6]; /* directed advertising's target */
	uint8_t primary_phy, secondary_phy;
};

#define ESPAT_BLE_LINKS 3u /* <conn_index> 0..2 [000:14052-14053] */

/* One connection. Intervals in 1.25 ms, timeout in 10 ms (the guide's units). */
struct espat_ble_link {
	bool up;
	bool central; /* this module made the link (AT+BLECONN): the SMP initiator */
	uint8_t addr[6];
	uint8_t addr_type;
	uint16_t interval, latency, timeout;
	uint16_t mtu;
	bool lost;                /* the peer vanished: the supervision timer runs */
	bool closing;             /* AT+BLEDISCONN: +BLEDISCONN after a connection event */
	struct espat_timer timer; /* supervision timeout or the disconnect's event */
	/* AT+BLECONNPARAM: the last request (0 when none made here) and the
	 * update in flight */
	uint16_t req_min, req_max;
	bool upd_pending;
	uint16_t upd_min, upd_max, upd_latency, upd_timeout;
	struct espat_timer upd_timer;
	/* ATT's MTU exchange: once per link (Vol 3 Part F 3.4.2.1) */
	bool mtu_done, mtu_pending;
	uint16_t mtu_req;
	struct espat_timer mtu_timer;
	uint16_t data_len; /* AT+BLEDATALEN's <pkt_data_len>; 27 until set */
	uint8_t phy;       /* AT+BLESETPHY's: 1 1M (every link starts so), 2 2M, 3 Coded */
};

/* AT+BLECONN in progress: the initiator waits for the target's next
 * advertising event, up to <timeout>. */
struct espat_ble_connecting {
	bool on;
	uint8_t idx;
	uint8_t addr[6];
	uint8_t addr_type; /* 0xff: whichever the device has */
	uint64_t deadline;
	struct espat_timer timer;
};

/* The AT view of one row of the local GATT server's table: what
 * AT+BLEGATTSCHAR? and +WRITE call it. The attribute itself (type,
 * permission, value) is the database's, at handle base + row. */
enum espat_gatts_kind { ESPAT_GATTS_SRV, ESPAT_GATTS_DECL, ESPAT_GATTS_VALUE, ESPAT_GATTS_DESC };

struct espat_gatts_attr {
	uint8_t kind;           /* enum espat_gatts_kind */
	uint8_t srv, chr, desc; /* the AT indices: service from 1, characteristic in it from 1,
	                         * descriptor of it from 1 (0: not one) */
};

/* The local GATT server: the attribute database a client sees (GATT and
 * GAP services first, then the table AT+BLEGATTSSRVCRE builds from the
 * manufacturing NVS's ble_data rows). */
struct espat_ble_gatts {
	struct espat_gatt_db db;
	struct espat_gatt_attr *db_attr; /* owned storage of db (NULL until first needed) */
	uint8_t *db_mem;
	uint16_t base;                 /* db handle of the table's row 0 */
	uint16_t name_h;               /* the GAP Device Name's value handle */
	struct espat_gatts_attr *attr; /* owned: the AT view of row i (handle base + i) */
	size_t n;
	bool created;
	uint8_t nsrv;
	uint32_t started; /* bit s-1: service s started */
	/* AT+BLEGATTSSETATTR's data entry */
	size_t set_attr;
	size_t set_len, set_got;
	/* AT+BLEGATTSNTFY / IND's data entry */
	uint8_t ntf_op;
	size_t ntf_link, ntf_attr, ntf_len, ntf_got;
	uint8_t ntf_buf[ESPAT_ATT_MTU_MAX];
};

/* A scan in progress (AT+BLESCAN=1): windows of param.window every
 * param.interval from start_ms, each advertising event inside a window
 * reported when that window closes. */
struct espat_ble_scan {
	bool on;
	uint64_t start_ms;
	uint64_t end_ms; /* when <duration> ends it (+BLESCANDONE); ESPAT_NEVER: 0 given */
	uint64_t window; /* number of the window the next report closes (0, 1, ...) */
	uint8_t filter;  /* 0 none, 1 MAC, 2 NAME */
	char filter_param[ESPAT_BLE_FILTER_MAX + 1];
	size_t filter_len;
	uint8_t filter_mac[6];
	struct espat_timer timer;
};

/* AT+BLEADVDATAEX's parameters (COMPAT #450): valid while the advertising
 * data is the one they built; AT+BLEADVDATA ends that (the last set wins). */
#define ESPAT_BLE_UUID_TEXT_MAX 32u /* a 128-bit UUID in hex digits */
struct espat_ble_adv_ex {
	bool on; /* the advertising data is AT+BLEADVDATAEX's */
	char name[ESPAT_BLE_NAME_MAX + 1];
	char uuid[ESPAT_BLE_UUID_TEXT_MAX + 1];      /* as given: 4, 8 or 32 hex digits */
	char manu[2 * ESPAT_BLE_ADV_LEGACY_MAX + 1]; /* as given: hex, may be empty */
	bool power;                                  /* <include_power> */
};

/* Periodic advertising (AT+BLEPERIODICDATA / START / STOP, ble_periodic.c)
 * and the scanner's sync to another device's train (AT+BLESYNCSTART /
 * STOP). COMPAT #455-#457. */
struct espat_ble_periodic {
	uint8_t data[ESPAT_BLE_PERIODIC_MAX];
	size_t len;
	bool on; /* AT+BLEPERIODICSTART until AT+BLEPERIODICSTOP */
	/* sync: the target's address, and the train's events reported up to */
	bool sync;
	uint8_t sync_addr[6];
	uint64_t sync_from_us; /* events before this are reported already */
	struct espat_timer sync_timer;
};

enum espat_ble_role {
	ESPAT_BLE_OFF = 0,    /* not initialized (AT+BLEINIT=0, every boot) */
	ESPAT_BLE_CLIENT = 1, /* AT+BLEINIT=1 */
	ESPAT_BLE_SERVER = 2, /* AT+BLEINIT=2 */
	ESPAT_BLE_HID = 3,    /* AT+BLEHIDINIT=1: the HID device (ble_hid.c); the general GAP
	                       * and GATT commands are ERROR, security works */
};

struct espat_ble_gattc;
struct espat_ble_spp;

struct espat_ble {
	enum espat_ble_role role;
	/* The role of the first AT+BLEINIT since boot: the guide says the role
	 * cannot change until AT+RST (COMPAT #400). */
	enum espat_ble_role boot_role;
	uint8_t public_addr[6]; /* the chip's: base MAC + 2 */
	bool random;            /* AT+BLEADDR=1[,...]: the random address is the own one */
	uint8_t random_addr[6]; /* static (given) or non-resolvable private (made) */
	char name[ESPAT_BLE_NAME_MAX + 1];
	struct espat_ble_scan_param scan_param;
	struct espat_ble_scan scan;
	struct espat_ble_adv_param adv_param;
	uint8_t adv_data[ESPAT_BLE_ADV_DATA_MAX]; /* AT+BLEADVDATA */
	size_t adv_len;
	uint8_t rsp_data[ESPAT_BLE_ADV_LEGACY_MAX]; /* AT+BLESCANRSPDATA */
	size_t rsp_len;
	bool advertising; /* AT+BLEADVSTART until AT+BLEADVSTOP (or a connection) */
	struct espat_ble_link link[ESPAT_BLE_LINKS];
	struct espat_ble_connecting connecting;
	struct espat_ble_gatts gatts;
	struct espat_ble_adv_ex adv_ex;
	struct espat_ble_periodic periodic;
	struct espat_ble_gattc *gattc; /* the GATT client's (ble_gattc.c), NULL until used */
	struct espat_ble_spp *spp;     /* BLE SPP's (ble_spp.c), NULL until used */
};

/* ---- security (ble_sec.c) ---- */

#define ESPAT_BLE_SEC_QUEUE 8u /* SMP PDUs of a link waiting for its connection event */
#define ESPAT_BLE_BONDS 15u    /* <enc_dev_index> 0..14 [000:8459-8464] */

/* One link's Security Manager: its session, the PDUs waiting for the next
 * connection event, the encryption level reached. */
struct espat_ble_sec_link {
	struct espat_module *m;
	size_t idx;
	struct espat_smp_session smp;
	uint8_t out[ESPAT_BLE_SEC_QUEUE][ESPAT_SMP_MTU];
	size_t outlen[ESPAT_BLE_SEC_QUEUE], nout;
	bool outll[ESPAT_BLE_SEC_QUEUE]; /* an LL control PDU (encryption start), not SMP */
	struct espat_ll_enc ll;          /* encryption with a bond's key */
	int bond;                        /* the bond it uses, -1: none */
	struct espat_timer flush;   /* the next connection event */
	struct espat_timer timeout; /* SMP's 30 s */
	bool asked;                 /* +BLESECREQ shown, AT+BLEENCRSP awaited */
	/* the host's answer (AT+BLEENCRSP, KEYREPLY, CONFREPLY) reaches the
	 * stack after the command's OK, as on the chip */
	struct espat_timer answer;
	uint8_t answer_kind; /* enum espat_smp_wait */
	uint32_t answer_val;
	uint8_t level;              /* 0 plain, 1 encrypted, 2 encrypted and authenticated */
};

/* A bonded device (AT+BLEENCDEV), kept in the settings NVS as blebond<i>. */
struct espat_ble_bond {
	bool used;
	uint8_t addr[6]; /* its identity address, as printed */
	uint8_t addr_type;
	uint8_t ltk[16]; /* wire order */
	uint16_t ediv;
	uint8_t rand[8];
	uint8_t key_size;
	bool authenticated, secure;
	uint32_t seq; /* bonding order: the oldest is overwritten past 15 */
};

struct espat_ble_sec {
	struct espat_smp_features param; /* AT+BLESECPARAM */
	uint8_t auth_option;
	int32_t static_key; /* AT+BLESETKEY, -1 when not set */
	uint8_t irk[16];    /* this device's identity resolving key */
	struct espat_smp_crypto crypto;
	struct espat_ble_sec_link link[ESPAT_BLE_LINKS];
	struct espat_ble_bond bond[ESPAT_BLE_BONDS];
	uint32_t seq; /* the next bond's number */
};

/* Link idx came up or went down (ble.c): a pairing under way fails, the
 * level returns to plain. */
void espat_ble_sec_link(struct espat_module *m, size_t idx, bool up);
/* One SMP PDU from the device at addr (the BLE port's SMP channel). */
void espat_ble_smp_in(struct espat_module *m, const uint8_t addr[6], const uint8_t *pdu,
                      size_t len);
/* The address the module has on link idx, and its type: as the central,
 * the one it initiated with (espat_ble_own_addr); as the peripheral, its
 * advertising set's (AT+BLEADVPARAM's <own_addr_type>). */
void espat_ble_link_own_addr(const struct espat_module *m, size_t idx, uint8_t a[6],
                             uint8_t *type);
/* Whether the module made link idx (it is the central, the SMP initiator). */
bool espat_ble_link_central(const struct espat_module *m, size_t idx);
/* The crypto port as the Security Manager (proto/smp.h) takes it: the
 * same functions, the proto layer's struct (proto includes no port). */
struct espat_smp_crypto espat_ble_smp_crypto(const struct espat_crypto_port *p);
/* One LL control PDU of the encryption start procedure from the device
 * at addr (the BLE port's ll channel). */
void espat_ble_ll_in(struct espat_module *m, const uint8_t addr[6], const uint8_t *pdu, size_t len);
/* Link idx's encryption level: 0 plain, 1 encrypted, 2 authenticated. */
uint8_t espat_ble_sec_level(const struct espat_module *m, size_t idx);

extern const struct espat_family espat_ble_sec_family;

/* Whether BLE is initialized (either role): AT+CIPMODE=1 is refused then. */
bool espat_ble_on(const struct espat_module *m);

/* A central (a scripted peer) connects to the module's advertising: the
 * lowest free <conn_index> gets it, advertising stops, +BLECONN is
 * reported. Returns the index, or -1 when the module does not advertise
 * connectably or has no free link. */
int espat_ble_central_connect(struct espat_module *m, const uint8_t addr[6], uint8_t addr_type);
/* The peer at addr (as the GATT client) exchanges MTUs offering mtu: the
 * link's ATT_MTU becomes min(mtu, 517), reported as +BLECFGMTU. False when
 * no link, or its MTU was already exchanged. */
bool espat_ble_peer_mtu(struct espat_module *m, const uint8_t addr[6], uint16_t mtu);
/* The peer at addr updated the link's parameters (an update it asked
 * for, at its instant): reported as +BLECONNPARAM with min and max 0
 * (not asked here). False when no link. */
/* The peer at addr set the link's PHY (1..3); false when no link. */
bool espat_ble_peer_phy(struct espat_module *m, const uint8_t addr[6], uint8_t phy);
bool espat_ble_peer_conn_param(struct espat_module *m, const uint8_t addr[6], uint16_t interval,
                               uint16_t latency, uint16_t timeout);
/* The address the module initiates connections with (what the peer
 * prints in +BLECONN): the random one when AT+BLESCANPARAM's
 * <own_addr_type> is 1 and AT+BLEADDR=1 set one, else the public one. */
void espat_ble_own_addr(const struct espat_module *m, uint8_t addr[6], uint8_t *type);
/* The peer at addr ends the link (+BLEDISCONN now); false when none. */
bool espat_ble_remote_disconnect(struct espat_module *m, const uint8_t addr[6]);
/* The peer at addr is gone without a word (powered off, out of range):
 * the link ends at its supervision timeout. False when no link. */
bool espat_ble_peer_lost(struct espat_module *m, const uint8_t addr[6]);

/* The default GATT service table of a new device: the rows esp-at's
 * gatts_data.csv holds (index,uuid_len,uuid,perm,val_max_len,val_cur_len,
 * value), stored in the manufacturing NVS namespace "ble_data" under keys
 * "gatts_cfg<index>" (strings). basic_flash.c seeds a fresh device's NVS
 * with them. */
#define ESPAT_BLE_DATA_NS "ble_data"
extern const char *const espat_ble_gatts_default[];
extern const size_t espat_ble_gatts_default_n;

/* BLE must be initialized (AT+BLEINIT) for every BLE command but
 * AT+BLEINIT: OK, or the ERROR the handler returns. The HID device does
 * not count (the guide: HID and the general commands exclude each other). */
enum espat_rc espat_ble_need_init(struct espat_module *m);
/* The stack must run, as AT+BLEINIT or AT+BLEHIDINIT started it: the
 * security commands, which HID needs too. */
enum espat_rc espat_ble_need_stack(struct espat_module *m);
/* Takes the stack down as AT+BLEINIT=0 does: scan, advertising, links,
 * services and client state end; the role is off. */
void espat_ble_stack_down(struct espat_module *m);
/* Advertises adv (RAM only, not AT+BLEADVDATA's flash copy) as ADV_IND
 * with the factory parameters: the HID device's set. */
void espat_ble_adv_raw(struct espat_module *m, const uint8_t *adv, size_t len);
/* ble_hid.c: a link ended (the HID device advertises again). */
void espat_ble_hid_link_down(struct espat_module *m);
/* Whether AT+BLEHIDINIT=1 made the module a HID device. */
bool espat_ble_hid_on(const struct espat_module *m);
extern const struct espat_family espat_ble_hid_family;
/* Whether any link is up. */
bool espat_ble_linked(const struct espat_module *m);
/* The GATT server answers one ATT PDU from the client at addr (a scripted
 * peer): writes rsp (cap bytes, at least the link's MTU) and returns its
 * length, 0 when nothing is answered (a command, an unknown link).
 * Reads report +READ, writes +WRITE, as the guide shows [000:14332-14374]. */
size_t espat_ble_att_request(struct espat_module *m, const uint8_t addr[6], const uint8_t *req,
                             size_t len, uint8_t *rsp, size_t cap);
/* One ATT PDU from the device at addr over its link, whatever transport
 * carried it (the shared air, a scripted peer): a request or command
 * (even opcode: requests, commands, the confirmation) goes to the GATT
 * server, whose answer goes back through the port's att(); a response, a
 * notification or an indication (odd opcode) goes to the GATT client
 * (ble_gattc.c; until it exists, dropped). Nothing happens when there is
 * no link with addr. */
void espat_ble_att_in(struct espat_module *m, const uint8_t addr[6], const uint8_t *pdu,
                      size_t len);
/* The link index with the device at addr, or -1. */
int espat_ble_link_of(const struct espat_module *m, const uint8_t addr[6]);
/* The ATT_MTU of link idx (which is up). */
uint16_t espat_ble_link_mtu(const struct espat_module *m, size_t idx);

/* Advertising and scanning as the periodic commands (ble_periodic.c) see
 * them: whether the set is on the air, its <adv_type>, whether a scan
 * runs; espat_ble_adv_publish() puts the set on the air again after a
 * change (nothing when not advertising). */
bool espat_ble_advertising(const struct espat_module *m);
uint8_t espat_ble_adv_type(const struct espat_module *m);
bool espat_ble_scanning(const struct espat_module *m);
void espat_ble_adv_publish(struct espat_module *m);
/* The module's periodic train's interval (COMPAT #456). */
#define ESPAT_BLE_PERIODIC_MS 80u
/* Ends a sync (AT+BLESCAN=0, a scan's end [000:9083]); ends the train too
 * (deinit, restart). */
void espat_ble_sync_stop(struct espat_module *m);
void espat_ble_periodic_end(struct espat_module *m);
/* Appends one gatts_data.csv row ("index,uuid_len,uuid,perm,val_max_len,
 * val_cur_len,value") to db; its handle, 0 when the row is bad or db full.
 * The module's table and a scripted peripheral's (app/ctl_ble.c) read
 * rows through it. */
uint16_t espat_ble_gatts_row_add(struct espat_gatt_db *db, const char *row);
/* "0xA002" for 16-bit UUIDs, else 0x and the 128 bits most significant first. */
const char *espat_ble_uuid_str(const struct espat_att_uuid *u, char out[35]);
/* The local table's row of a characteristic's value (desc 0) or of one of
 * its descriptors, by AT indices; -1 when none. */
long espat_ble_gatts_find(const struct espat_module *m, int64_t srv, int64_t chr, int64_t desc);
/* Notifies or indicates (op) v[0..n) of the characteristic value at table
 * row `row` to the client on link: the checks of AT+BLEGATTSNTFY/IND, then
 * the PDU through the port. SPP's server side sends through it too. */
enum espat_gatt_ntf_err espat_ble_gatts_send(struct espat_module *m, size_t link, uint8_t op,
                                            size_t row, const uint8_t *v, size_t n);
/* A new client on link: its CCCDs cleared (link_up). */
void espat_ble_gatts_client_reset(struct espat_module *m, size_t link);
/* Builds the server's table from rows (gatts_data.csv form) instead of
 * the manufacturing NVS, every service started: the HID device's. False
 * when a table exists or a row is bad. */
bool espat_ble_gatts_load(struct espat_module *m, const char *const *rows, size_t n);
/* The link's security reached level (ble_sec.c, after pairing): the
 * server's encrypted attributes open to that client. */
void espat_ble_gatts_set_level(struct espat_module *m, size_t link, uint8_t level);

/* The GATT client (ble_gattc.c): a response, a notification or an
 * indication that came from the peer on link. */
void espat_ble_gattc_in(struct espat_module *m, size_t link, const uint8_t *pdu, size_t len);
/* The link went down: its discovery cache goes, and a procedure on it
 * ends in ERROR when `report` (a peer's doing, not a deinit or restart). */
void espat_ble_gattc_link_down(struct espat_module *m, size_t link, bool report);
/* Frees the GATT client's state (deinit, restart). */
void espat_ble_gattc_free(struct espat_module *m);
extern const struct espat_family espat_ble_gattc_family;
/* What discovery found on link for characteristic (srv, chr) (client
 * indices): its value handle, properties and CCCD handle (0: none). */
bool espat_ble_gattc_char(struct espat_module *m, size_t link, uint8_t srv, uint8_t chr,
                          uint16_t *handle, uint8_t *prop, uint16_t *cccd);

/* BLE SPP (ble_spp.c): a notification or indication the client got of
 * characteristic (srv, chr) on link; true when SPP took it (raw to the
 * UART: no +NOTIFY / +INDICATE then). */
bool espat_ble_spp_value_in(struct espat_module *m, size_t link, uint8_t srv, uint8_t chr,
                            const uint8_t *v, size_t n);
/* The local server's characteristic value at table row `row` was written
 * by the client on link; true when SPP took it (no +WRITE then). */
bool espat_ble_spp_write_in(struct espat_module *m, size_t link, size_t row, const uint8_t *v,
                            size_t n);
/* A Write Response or Error Response no GATT client command waits for:
 * SPP's (its CCCD write, a data chunk). */
void espat_ble_spp_answer(struct espat_module *m, size_t link, const struct espat_att_pdu *p);
/* The client on link confirmed the server's indication. */
void espat_ble_spp_confirmed(struct espat_module *m, size_t link);
/* The link went down: an AT+BLESPP waiting on it ends in ERROR when
 * `report`; SPP data for it is dropped from then on. */
void espat_ble_spp_link_down(struct espat_module *m, size_t link, bool report);
/* Frees SPP's state (deinit, restart). */
void espat_ble_spp_free(struct espat_module *m);
extern const struct espat_family espat_ble_spp_family;

/* Frees the GATT server's table (deinit, restart). */
void espat_ble_gatts_free(struct espat_module *m);

extern const struct espat_family espat_ble_family;
/* The GATT server's commands (ble_gatts.c): a row of its own, state in
 * the ble family's slot. */
extern const struct espat_family espat_ble_gatts_family;
/* Periodic advertising and sync (ble_periodic.c), state in the same slot. */
extern const struct espat_family espat_ble_periodic_family;

#endif

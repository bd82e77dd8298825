#!/bin/sh
# MariaDB: a data directory made by mariadb-install-db, the server with
# InnoDB, and SQL through the command-line client (20,000 rows, an index,
# an update, a self-join), then a clean shutdown. The buffer pool's
# reservation is capped: Debian 12's qemu-user (7.2) keeps per-page records of
# the 8 TiB the server reserves by default.
D=$W/mariadb_$$
mkdir -p "$D"
mariadb-install-db --innodb-buffer-pool-size-max=512M --datadir="$D/data" --user=root --auth-root-authentication-method=normal > "$D/install.log" 2>&1 || { echo "install-db failed"; cat "$D/install.log"; }
mariadbd --no-defaults --innodb-buffer-pool-size-max=512M --datadir="$D/data" --socket="$D/s" --skip-networking --user=root > "$D/server.log" 2>&1 &
for i in $(seq 1 300); do [ -S "$D/s" ] && break; sleep 1; done
mariadb --no-defaults -S "$D/s" -uroot <<'SQL'
CREATE DATABASE t; USE t;
CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(40), n DOUBLE, KEY(v)) ENGINE=InnoDB;
INSERT INTO a SELECT seq, SHA1(seq), seq/7 FROM seq_1_to_20000;
SELECT COUNT(*), SUM(id), ROUND(SUM(n),4), MD5(GROUP_CONCAT(v ORDER BY v)) FROM a;
SELECT LEFT(v,2) p, COUNT(*) c FROM a GROUP BY p ORDER BY c DESC, p LIMIT 3;
UPDATE a SET n = n*2 WHERE id % 3 = 0;
SELECT ROUND(SUM(n),4) FROM a;
SELECT x.id, y.id FROM a x JOIN a y ON y.id = x.id*2 WHERE x.id BETWEEN 100 AND 103;
SQL
mariadb-admin --no-defaults -S "$D/s" -uroot shutdown
wait
echo "mariadbd exit $?"
rm -rf "$D"

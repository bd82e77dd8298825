#!/bin/sh
# nginx: a master and two workers serving a page and a gzip-compressed
# file, a configuration reload (SIGHUP: new workers), then a graceful quit.
D=$W/nginx_$$
mkdir -p "$D/logs" "$D/html"
echo "hello from nginx" > "$D/html/index.html"
seq 1 20000 > "$D/html/big.txt"
cat > "$D/nginx.conf" <<CONF
worker_processes 2;
daemon off;
error_log $D/logs/error.log;
pid $D/nginx.pid;
events { worker_connections 64; }
http {
  access_log $D/logs/access.log;
  client_body_temp_path $D/cb; proxy_temp_path $D/px; fastcgi_temp_path $D/fc; uwsgi_temp_path $D/uw; scgi_temp_path $D/sc;
  server {
    listen 127.0.0.1:18080;
    root $D/html;
    location /gz { gzip on; gzip_types text/plain; gzip_min_length 1; default_type text/plain; alias $D/html/big.txt; }
  }
}
CONF
nginx -c "$D/nginx.conf" -p "$D" &
for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18080/ && break; sleep 0.5; done
curl -s http://127.0.0.1:18080/
curl -s -H "Accept-Encoding: gzip" http://127.0.0.1:18080/gz | gunzip | md5sum
kill -HUP "$(cat "$D/nginx.pid")"
sleep 3
for i in 1 2 3 4 5 6 7 8 9 10; do curl -s http://127.0.0.1:18080/; done | sort | uniq -c
kill -QUIT "$(cat "$D/nginx.pid")"
wait
echo "nginx exit $?"
grep -c " 200 " "$D/logs/access.log"
rm -rf "$D"

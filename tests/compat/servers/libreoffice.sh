#!/bin/sh
# LibreOffice Writer headless: a UTF-8 text file converted to .docx, and the
# .docx back to text (two soffice runs: its own threads, the UNO bridge).
d=$W/lo_$$
mkdir -p $d && cd $d || exit 1
printf 'Hello LibreOffice\nSecond line with \303\274n\303\257code\n' > t.txt
export HOME=$d
soffice --headless --convert-to docx --outdir $d/o $d/t.txt > /dev/null 2>&1 && soffice --headless --convert-to txt:Text --outdir $d/p $d/o/t.docx > /dev/null 2>&1
echo "soffice exit $?"
cat $d/p/t.txt
unzip -p $d/o/t.docx word/document.xml | grep -o '<w:t[^>]*>[^<]*</w:t>'
cd / && rm -rf $d

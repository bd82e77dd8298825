#!/bin/sh
# R (r-base-core): lm() with its LAPACK QR, solve, eigen, summary, the
# seeded Mersenne Twister, a data frame and aggregate().
f=$W/r_$$.R
cat > $f <<'RS'
set.seed(42)
x <- 1:200
y <- 3 * x + 7 + sin(x)
fit <- lm(y ~ x)
print(round(coef(fit), 6))
m <- matrix(c(4, 2, 2, 3), 2)
print(solve(m))
print(round(eigen(m)$values, 8))
print(summary(c(3, 1, 4, 1, 5, 9, 2, 6)))
print(round(rnorm(3), 6))
df <- data.frame(g = rep(c("a", "b"), 50), v = 1:100)
print(aggregate(v ~ g, df, sum))
print(format(pi, digits = 15))
RS
Rscript $f
echo "Rscript exit $?"
rm -f $f

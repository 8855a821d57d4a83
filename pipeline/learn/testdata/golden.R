#!/usr/bin/env Rscript
# Generates the datasets under golden/ and the reference values the Go tests
# of package learn compare against. R is needed only to regenerate them:
#
#   cd pipeline/learn/testdata && Rscript golden.R
#
# Packages (Debian): r-cran-proc, r-cran-glmnet, r-cran-hmisc, r-cran-psych,
# r-cran-jsonlite. The datasets are simulated with a fixed seed and rounded so
# that the committed CSV text is exact and has ties.
suppressPackageStartupMessages({
  library(pROC); library(glmnet); library(Hmisc); library(psych); library(jsonlite)
})
set.seed(20261126)
dir.create("golden", showWarnings = FALSE)
out <- function(x, file) writeLines(toJSON(x, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path("golden", file))

# ---- Dataset 1: a cohort of 150 with a reference and two new models. ----
n <- 150
clin <- rnorm(n); img <- rnorm(n)
y <- rbinom(n, 1, plogis(-0.4 + 0.9 * clin + 1.1 * img))
# Rounded (ties) and kept inside (0, 1) so every logit is finite.
rp <- function(p, d) pmin(pmax(round(p, d), 10^-d), 1 - 10^-d)
ref <- rp(plogis(-0.3 + 0.8 * clin + rnorm(n, sd = 0.6)), 2)          # clinical-only
new <- rp(plogis(-0.4 + 0.9 * clin + 1.0 * img + rnorm(n, sd = 0.4)), 2) # DLRC-like
weak <- rp(plogis(0.2 * img + rnorm(n, sd = 1)), 1)                    # many ties
cohort <- data.frame(y = y, ref = ref, new = new, weak = weak)
write.csv(cohort, "golden/cohort.csv", row.names = FALSE, quote = FALSE)
cohort <- read.csv("golden/cohort.csv")

# ResourceSelection::hoslem.test (0.3-5), inlined because Debian has no
# package for it: quantile groups, df = g - 2.
hoslem <- function(x, yhat, g = 10) {
  qq <- unique(quantile(yhat, probs = seq(0, 1, 1 / g)))
  cutyhat <- cut(yhat, breaks = qq, include.lowest = TRUE)
  observed <- xtabs(cbind(y0 = 1 - x, y1 = x) ~ cutyhat)
  expected <- xtabs(cbind(yhat0 = 1 - yhat, yhat1 = yhat) ~ cutyhat)
  chisq <- sum((observed - expected)^2 / expected)
  list(chi2 = chisq, df = g - 2, p = 1 - pchisq(chisq, g - 2))
}
# The same with empty groups dropped (type-7 quantiles can fall between tied
# values and leave a group empty, where hoslem.test returns NaN); this is
# what package learn computes.
hoslemNonEmpty <- function(x, yhat, g = 10) {
  qq <- unique(quantile(yhat, probs = seq(0, 1, 1 / g)))
  cutyhat <- droplevels(cut(yhat, breaks = qq, include.lowest = TRUE))
  observed <- xtabs(cbind(y0 = 1 - x, y1 = x) ~ cutyhat)
  expected <- xtabs(cbind(yhat0 = 1 - yhat, yhat1 = yhat) ~ cutyhat)
  chisq <- sum((observed - expected)^2 / expected)
  list(chi2 = chisq, df = g - 2, p = 1 - pchisq(chisq, g - 2))
}

models <- list()
for (m in c("ref", "new", "weak")) {
  p <- cohort[[m]]
  r <- roc(controls = p[cohort$y == 0], cases = p[cohort$y == 1], direction = "<", quiet = TRUE)
  ci <- ci.auc(r, method = "delong")
  set.seed(42)
  cib <- ci.auc(r, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE, progress = "none")
  best <- coords(r, "best", best.method = "youden", ret = c("threshold", "sensitivity", "specificity"), transpose = FALSE)
  slope <- glm(cohort$y ~ qlogis(p), family = binomial)
  large <- glm(cohort$y ~ 1, offset = qlogis(p), family = binomial)
  models[[m]] <- list(
    auc = as.numeric(auc(r)), var_delong = var(r, method = "delong"),
    ci_delong = c(ci[1], ci[3]), ci_bootstrap = c(cib[1], cib[3]),
    youden = list(threshold = best$threshold[1], sensitivity = best$sensitivity[1], specificity = best$specificity[1]),
    calibration_slope = unname(coef(slope)[2]), calibration_slope_intercept = unname(coef(slope)[1]),
    calibration_in_the_large = unname(coef(large)[1]),
    brier = mean((p - cohort$y)^2), hosmer_lemeshow = hoslem(cohort$y, p, 10),
    hosmer_lemeshow_nonempty = hoslemNonEmpty(cohort$y, p, 10))
}
tests <- list()
for (m in c("new", "weak")) {
  r1 <- roc(cohort$y, cohort[[m]], direction = "<", quiet = TRUE)
  r0 <- roc(cohort$y, cohort$ref, direction = "<", quiet = TRUE)
  t <- roc.test(r1, r0, method = "delong", paired = TRUE)
  ip <- improveProb(x1 = cohort$ref, x2 = cohort[[m]], y = cohort$y)
  tests[[m]] <- list(delong_z = unname(t$statistic), delong_p = t$p.value,
    nri = ip$nri, nri_se = ip$se.nri, nri_z = ip$z.nri, nri_p = 2 * pnorm(-abs(ip$z.nri)),
    nri_events = ip$nri.ev, nri_nonevents = ip$nri.ne,
    idi = ip$idi, idi_se = ip$se.idi, idi_z = ip$z.idi, idi_p = 2 * pnorm(-abs(ip$z.idi)))
}
# Mann-Whitney and Spearman on the cohort (the hand-checked case is in the Go test).
wt <- wilcox.test(cohort$weak[cohort$y == 1], cohort$weak[cohort$y == 0], exact = FALSE, correct = TRUE)
out(list(models = models, tests = tests,
  mann_whitney_weak = list(w = unname(wt$statistic), p = wt$p.value),
  spearman_ref_weak = cor(cohort$ref, cohort$weak, method = "spearman")), "cohort.json")

# ---- Dataset 2: two readers (and a third) for ICC, values with ties. ----
ns <- 40
true <- rnorm(ns, 10, 3)
icc <- data.frame(r1 = round(true + rnorm(ns, 0, 1), 1),
                  r2 = round(true + 0.8 + rnorm(ns, 0, 1), 1),
                  r3 = round(true - 0.5 + rnorm(ns, 0, 1.5), 1))
write.csv(icc, "golden/icc.csv", row.names = FALSE, quote = FALSE)
icc <- read.csv("golden/icc.csv")
iccres <- function(x) {
  res <- psych::ICC(x, lmer = FALSE)$results
  list(icc2 = res$ICC[2], icc3 = res$ICC[3], f = res$F[2], df1 = res$df1[2], df2 = res$df2[2], p = res$p[2])
}
out(list(two = iccres(icc[, c("r1", "r2")]), three = iccres(icc)), "icc.json")

# ---- Dataset 3: LASSO, n > p and n < p. ----
lassoData <- function(n, p, file) {
  x <- matrix(rnorm(n * p), n, p)
  x[, 2] <- x[, 1] + rnorm(n, sd = 0.3) # correlated pair
  x <- round(x * 3 + 5, 3)
  b <- c(0.8, 0, -0.6, 0.5, rep(0, p - 4))
  y <- rbinom(n, 1, plogis(0.3 + ((x - 5) / 3) %*% b))
  # Stratified fold ids 1..5, the same assignment the Go test uses.
  foldid <- integer(n)
  for (cl in 0:1) { i <- which(y == cl); foldid[i] <- sample(rep_len(1:5, length(i))) }
  d <- data.frame(y = y, fold = foldid, x)
  write.csv(d, file.path("golden", file), row.names = FALSE, quote = FALSE)
}
lassoGolden <- function(file, jsonfile) {
  d <- read.csv(file.path("golden", file))
  x <- as.matrix(d[, -(1:2)]); y <- d$y
  # thresh = 1e-14: with p > n the objective is flat enough that glmnet's
  # default (1e-7) or even 1e-10 leaves intercepts 1e-3 from the optimum.
  fit <- glmnet(x, y, family = "binomial", thresh = 1e-14)
  xs <- scale(x) # already z-scored columns, fitted with standardize = FALSE
  fit2 <- glmnet(xs, y, family = "binomial", standardize = FALSE, lambda = fit$lambda[1:30], thresh = 1e-14)
  cv <- cv.glmnet(x, y, family = "binomial", foldid = d$fold, type.measure = "deviance", thresh = 1e-14)
  out(list(lambda = fit$lambda, a0 = unname(fit$a0), beta = unname(as.matrix(fit$beta)),
    nostd_lambda = fit2$lambda, nostd_a0 = unname(fit2$a0), nostd_beta = unname(as.matrix(fit2$beta)),
    cv_lambda = cv$lambda, cvm = cv$cvm, cvsd = cv$cvsd, lambda_min = cv$lambda.min, lambda_1se = cv$lambda.1se),
    jsonfile)
}
lassoData(120, 20, "lasso_tall.csv")
lassoData(50, 100, "lasso_wide.csv")
lassoGolden("lasso_tall.csv", "lasso_tall.json")
lassoGolden("lasso_wide.csv", "lasso_wide.json")
# ---- Logistic regression: unpenalised (glm) and L2 (scikit-learn's C). ----
# scikit-learn minimises 1/2 |w|^2 + C sum(loss) with the intercept unpenalised;
# divided by n*C that is glmnet's ridge objective (alpha = 0, standardize =
# FALSE) with lambda = 1 / (n * C).
d <- read.csv("golden/lasso_tall.csv")
x <- as.matrix(d[, c("X1", "X3", "X4", "X5")])
g <- glm(d$y ~ x, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100)) # converged tightly: summary() uses the last IRLS weights
ridge <- lapply(c(0.05, 1), function(C) {
  f <- glmnet(x, d$y, family = "binomial", alpha = 0, standardize = FALSE,
              lambda = 1 / (nrow(x) * C), thresh = 1e-14)
  list(C = C, intercept = unname(f$a0), coef = unname(as.numeric(f$beta)))
})
sg <- summary(g)$coefficients
out(list(glm = unname(coef(g)), glm_se = unname(sg[, 2]), glm_p = unname(sg[, 4]), ridge = ridge), "logistic.json")
cat("wrote golden/\n")

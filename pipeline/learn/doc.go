// Package learn is the statistics and modelling core of sacrum: the
// four-step feature selection, LASSO and L2 logistic regression, and the
// evaluation statistics of the DLRC paper (Eur J Radiol 2026;201:112903).
// Every statistic reproduces a reference implementation, checked by golden
// tests against values written by testdata/golden.R:
//
//	AUC, DeLong variance/CI, paired DeLong test    pROC (direction "<")
//	stratified bootstrap AUC CI                    pROC ci.auc(method="bootstrap", stratified=TRUE)
//	Youden threshold                               pROC coords("best", best.method="youden")
//	calibration slope / in the large, Brier        R glm(binomial)
//	Hosmer–Lemeshow (g = 10)                       ResourceSelection::hoslem.test grouping
//	IDI, continuous NRI                            Hmisc improveProb
//	ICC(2,1), ICC(3,1)                             psych ICC (ANOVA)
//	Mann–Whitney U, Spearman ρ                     R wilcox.test(exact=FALSE, correct=TRUE), cor(method="spearman")
//	LASSO path and CV                              glmnet / cv.glmnet (binomial, alpha = 1)
//	L2 logistic regression                         scikit-learn LogisticRegression(C=…)
//
// Data conventions: an outcome is []int of 0/1 (1 = event/responder);
// predictions are probabilities []float64; feature data are column-major,
// cols[j][i] = feature j of patient i, so that a feature is one slice.
//
// # Building `sacrum train` from it
//
//	train, test, _ := StratifiedSplit(y, 0.2, rng)               // or the CSV's split column
//	keep, removed, _ := ICCFilter(names, reader1, reader2, ICC21, 0.75)
//	keep, removed, _ = MannWhitneyFilter(names, cols, yTrain, 0.05) // on training rows
//	keep, removed, _ = RedundancyFilter(names, cols, 0.9)
//	sc, _ := FitScaler(names, trainCols); z := sc.Transform(cols)
//	folds, _ := StratifiedFolds(yTrain, 10, rng)
//	cv, _ := CVLasso(ctx, z, yTrain, folds, LassoOptions{NoStandardize: true})
//	lasso := cv.Path.Model(cv.IndexMin)                          // or cv.Index1SE
//	dlr := LinearPredictors(lasso, z)                            // DLR score
//	w, _ := LogisticWald(clin, yTrain, FitLogistic(clin, yTrain, LogisticOptions{})) // clinical screening
//	c, _, _ := CVLogisticC(ctx, [][]float64{dlr, age, crp}, yTrain, folds, []float64{0.01, 0.1, 1, 10})
//	dlrc, _ := FitLogistic([][]float64{dlr, age, crp}, yTrain, LogisticOptions{C: c})
//	m, _ := Evaluate(yTest, p, EvaluateOptions{Seed: 1})         // the `sacrum evaluate` keys
//	cmp, _ := Compare(yTest, p, pClinical)                       // DeLong test, IDI, NRI
//	roc, _ := NewROC(yTrain, pTrain); Classify(yTest, pTest, roc.Youden().Value)
//	Calibrate, DecisionCurve, LinearSHAP / MeanAbsSHAP for the report.
//
// (Error returns elided above.) Each step returns the kept indices and a
// Removal per dropped feature for selection.csv; Subset, Rows and RowsInt
// cut columns and patients.
//
// Bad input gives errors that name the row or feature (NaN, one outcome
// class, fewer than MinEvents events, a constant feature); no function
// panics on input or returns a NaN silently, except the documented 0/0
// ratios of Classification.
//
// Imports: the standard library and gonum only. Used by cmd/sacrum and the
// pipeline's DLRC model.
package learn

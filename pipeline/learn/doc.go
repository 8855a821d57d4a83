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
// TrainEndpoint runs the whole method for one endpoint from column-major
// features of two readers, clinical variables and the outcome (and an
// optional split), and returns what bundle.json, selection.csv,
// metrics.json and report.html need: the removals per step, the LASSO
// (DLR score) model with its training scaler and λ, the clinical, DLR
// (fallback without clinical inputs) and DLRC LinearModels, SetMetrics per
// model for "train" and "test" (the `sacrum evaluate` keys plus Youden
// threshold metrics, calibration and decision curves, and DeLong/IDI/NRI
// against the clinical model), and SHAP rankings. `sacrum train` reads the
// CSVs, calls it per endpoint and writes the files.
//
// # Model bundles (bundle.json)
//
// A Bundle is what `sacrum train` writes to BUNDLE_DIR/bundle.json and
// what the node loads to predict (schema BundleSchema; LoadBundle refuses
// other versions). Per endpoint it holds the selected image features with
// their training scaler and LASSO coefficients (EndpointBundle.Lasso: the
// DLR score is its linear predictor), the clinical-only, DLR-only and DLRC
// LinearModels, Youden thresholds, SHAP backgrounds and summary metrics;
// shared are the extraction settings (PyRadiomics parameter file content
// and sha256, deep model name and version), the clinical variables with
// their encoding (no imputation), the training choices and the sha256 of
// the training CSVs. Use:
//
//	b, err := learn.LoadBundle(dir)
//	need := b.Features()                              // image features to extract
//	clin, missing, err := b.EncodeClinical(rawValues) // "M"/"F" → 1/0, "NA" → missing
//	preds, err := b.Predict(features, clin)           // map endpoint → Prediction
//
// A Prediction has Probability, DLRScore, Threshold (Youden, training),
// Responder (Probability >= Threshold), Variant ("DLRC", or "DLR-only"
// when a clinical input of the DLRC model is missing, with
// MissingClinical naming it), Contributions (exact SHAP on the logit of
// the model used, image features counted through the DLR score, largest
// |SHAP| first) and DLRWeights (each feature's weight on the DLR score per
// raw unit, for a class-activation map from deep feature maps). A missing
// or non-finite image feature is an error.
//
// The pieces are exported for other uses:
//
//	StratifiedSplit, StratifiedFolds        4:1 split, K folds, both stratified on y
//	ICCFilter, MannWhitneyFilter,           steps 2–4, each returning kept indices
//	RedundancyFilter, LassoSelected         and a Removal per dropped feature
//	FitScaler / Scaler.Transform            z-scores with a training-only scaler
//	FitLassoPath, CVLasso                   glmnet path and cv.glmnet (λ.min, λ.1se)
//	FitLogistic, CVLogisticC, LogisticWald  L2 / plain logistic, C by CV, Wald tests
//	Evaluate, Compare                       the `sacrum evaluate` statistics
//	NewROC (AUC, CIs, Curve, Youden),       the parts of Evaluate and Compare
//	CompareROC, Calibrate, Reclassify,
//	DecisionCurve, Classify
//	LinearSHAP, MeanAbsSHAP                 exact SHAP for linear models
//	ICC, MannWhitney, Spearman, Ranks       the underlying statistics
//
// Bad input gives errors that name the row or feature (NaN, one outcome
// class, fewer than MinEvents events, a constant feature); no function
// panics on input or returns a NaN silently, except the documented 0/0
// ratios of Classification.
//
// Imports: the standard library and gonum only. Used by cmd/sacrum and the
// pipeline's DLRC model.
package learn

// Package eval computes model quality metrics from predictions and labels:
// classification (accuracy, balanced accuracy, precision, recall, F1,
// ROC AUC, log loss, confusion matrix), regression (MAE, RMSE, R², MAPE,
// residual quantiles), baselines and worst cases, and renders them as text
// tables or an HTML report with inline SVG. Predictions gathers a model's
// predictions row by row and makes the Report. It does no I/O of its own.
package eval

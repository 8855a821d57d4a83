package radiomics

// Texture families: IBSI and PyRadiomics, feature by feature.
//
// Every family function (GLCMFeatures, GLRLMFeatures, GLSZMFeatures, GLDZMFeatures,
// NGTDMFeatures, NGLDMFeatures, or TextureFeatures for all) takes a Discretised region (grey levels
// 1…NG in the intensity mask, 0 outside; the morphological mask for GLDZM distances) and
// TextureOptions. TextureOptions.IBSI selects the convention:
//
//   - IBSI mode: IBSI chapter 1 definitions, one Feature per feature and aggregation, tagged as in
//     the IBSI reference table ("cm_joint_max_2D_avg", "rlm_sre_2_5D_comb", "szm_sze_3D", …).
//     GLCM and GLRLM give 2D_avg (per slice and direction, averaged), 2D_comb (directions merged
//     per slice, averaged over slices), 2_5D_avg (slices merged per direction, averaged over
//     directions), 2_5D_comb (all merged), 3D_avg (per 3D direction, averaged) and 3D_comb (all 13
//     merged); GLSZM, GLDZM, NGTDM and NGLDM give 2D (per slice, averaged), 2_5D (slices merged)
//     and 3D. Slices lie across Force2DDimension (0: k). Distances are Chebyshev (d = 1 by
//     default), matrices symmetric. The rows of the 3D_avg / 3D aggregation also carry the
//     PyRadiomics name, the aggregation PyRadiomics computes by default.
//   - PyRadiomics mode: PyRadiomics' classes glcm, glrlm, glszm, gldm and ngtdm, with its names,
//     definitions and settings (distances, symmetricalGLCM, weightingNorm, gldm_a, force2D,
//     force2Ddimension). A Feature also carries the IBSI tag of the same quantity: 3D_avg / 3D by
//     default, 2_5D_avg / 2_5D with force2D (PyRadiomics merges the slices of a 2D extraction per
//     angle), 3D_comb / 2_5D_comb with weightingNorm no_weighting; no tag with another weighting
//     norm or where IBSI has no such feature (MCC). The values are equal except in the cases
//     listed below (Idn/Idmn normalisation, NGTDM isolated voxels, degenerate regions). On the IBSI
//     digital phantom all 74 tagged PyRadiomics values equal the IBSI references, in 3D and with
//     force2D (texture_test.go).
//
// Common to every PyRadiomics class, unlike IBSI:
//   - Angles are generated only where the offset is smaller than the ROI bounding box along every
//     axis, so a one-slice ROI has the 4 in-plane angles only; IBSI keeps all 13 directions (empty
//     ones are left out of the averages here in both modes).
//   - Per-angle features are averaged with numpy.nanmean (undefined angles ignored); IBSI averages
//     (here an undefined value in one matrix makes the average undefined).
//   - Logarithms are log2(p + ε), ε = 2.2e-16; IBSI sums over p > 0 only. The difference is below
//     1e-14.
//   - Grey levels absent from the ROI are removed from the matrices. Both modes store only the
//     levels present (with their grey-level values), which changes no IBSI feature (empty rows
//     contribute nothing; the normalised inverse differences still use NG) and bounds memory for
//     a large NG; PyRadiomics' MCC is defined on these levels.
//
// GLCM (IBSI 3.6; PyRadiomics glcm)
//
//	IBSI tag             PyRadiomics          difference
//	cm_joint_max         MaximumProbability   none
//	cm_joint_avg         JointAverage         none (PyRadiomics: μx, assumes symmetry)
//	cm_joint_var         SumSquares           none (PyRadiomics: variance of i, assumes symmetry)
//	cm_joint_entr        JointEntropy         ε in the log
//	cm_diff_avg          DifferenceAverage    none
//	cm_diff_var          DifferenceVariance   none
//	cm_diff_entr         DifferenceEntropy    ε in the log
//	cm_sum_avg           SumAverage           none
//	cm_sum_var           —                    PyRadiomics deprecated it (= ClusterTendency)
//	cm_sum_entr          SumEntropy           ε in the log
//	cm_energy            JointEnergy          none
//	cm_contrast          Contrast             none
//	cm_dissimilarity     —                    PyRadiomics deprecated it (= DifferenceAverage)
//	cm_inv_diff          Id                   none
//	cm_inv_diff_norm     Idn                  Ng: IBSI the number of bins NG, PyRadiomics the highest
//	                                          grey level present in the ROI (equal when it is NG)
//	cm_inv_diff_mom      Idm                  none
//	cm_inv_diff_mom_norm Idmn                 Ng as for Idn
//	cm_inv_var           InverseVariance      none
//	cm_corr              Correlation          σxσy = 0 (one grey level): IBSI undefined (NaN),
//	                                          PyRadiomics 1; PyRadiomics adds ε to σxσy
//	cm_auto_corr         Autocorrelation      none
//	cm_clust_tend        ClusterTendency      none
//	cm_clust_shade       ClusterShade         none
//	cm_clust_prom        ClusterProminence    none
//	cm_info_corr1        Imc1                 max(HX, HY) = 0: IBSI undefined, PyRadiomics 0
//	cm_info_corr2        Imc2                 HXY2 = HXY: PyRadiomics 0 (IBSI also 0); HXY > HXY2
//	                                          by rounding: PyRadiomics NaN (ignored by nanmean),
//	                                          IBSI mode clamps to 0
//	—                    MCC                  PyRadiomics only: √(second largest eigenvalue of Q);
//	                                          1 for a single grey level
//
// PyRadiomics' symmetricalGLCM = false counts P(i, j) for the neighbour j at +angle only (angles
// with their first non-zero of k, j, i positive, PyRadiomics' order); IBSI matrices are always
// symmetric. weightingNorm merges the angles weighted by exp(−‖d‖²) (d in mm; infinity, euclidean
// or manhattan norm) before computing one feature value.
//
// GLRLM (IBSI 3.7; PyRadiomics glrlm). Same definitions for all 16 features (rlm_sre
// ShortRunEmphasis, rlm_lre LongRunEmphasis, rlm_lgre LowGrayLevelRunEmphasis, rlm_hgre
// HighGrayLevelRunEmphasis, rlm_srlge, rlm_srhge, rlm_lrlge, rlm_lrhge (Short/LongRun
// Low/HighGrayLevelEmphasis), rlm_glnu GrayLevelNonUniformity, rlm_glnu_norm …Normalized, rlm_rlnu
// RunLengthNonUniformity, rlm_rlnu_norm …Normalized, rlm_r_perc RunPercentage, rlm_gl_var
// GrayLevelVariance, rlm_rl_var RunVariance, rlm_rl_entr RunEntropy). Differences: RunEntropy's ε;
// PyRadiomics always uses unit steps (its `distances` does not apply) and drops an angle along
// which no line holds two ROI voxels; weightingNorm weights by ‖d‖ itself (not exp). The run
// percentage divides by Σ runs × length, which is the voxel count per direction and the voxel
// count × directions for IBSI's merged matrices, as IBSI specifies.
//
// GLSZM (IBSI 3.8; PyRadiomics glszm). Zones are 26-connected (8-connected in slices). Same
// definitions for all 16 features: szm_sze SmallAreaEmphasis, szm_lze LargeAreaEmphasis, szm_lgze
// LowGrayLevelZoneEmphasis, szm_hgze HighGrayLevelZoneEmphasis, szm_szlge/szhge/lzlge/lzhge
// Small/LargeArea Low/HighGrayLevelEmphasis, szm_glnu GrayLevelNonUniformity, szm_glnu_norm
// …Normalized, szm_zsnu SizeZoneNonUniformity, szm_zsnu_norm …Normalized, szm_z_perc
// ZonePercentage, szm_gl_var GrayLevelVariance, szm_zs_var ZoneVariance, szm_zs_entr ZoneEntropy
// (ε). The mapping table of the IBSI/PyRadiomics comparison lists some of these under glcm: a typo
// there; they are glszm features.
//
// GLDZM (IBSI 3.9): IBSI only. Zones as in the GLSZM on the intensity mask; the distance of a zone
// is the smallest distance of its voxels to the border of the morphological mask, counted in
// face-connected steps (6-connectivity; 4 within slices for 2D and 2.5D), border voxels at 1, the
// grid edge a border.
//
// NGTDM (IBSI 3.10; PyRadiomics ngtdm): Coarseness, Contrast, Busyness, Complexity, Strength
// (ngt_coarseness, ngt_contrast, ngt_busyness, ngt_complexity, ngt_strength). The neighbourhood is
// the ROI voxels at Chebyshev distance ≤ d (26 in 3D, 8 in slices). Differences: IBSI counts only
// voxels with at least one ROI neighbour in n_i; PyRadiomics counts every ROI voxel (s_i += 0 for
// isolated ones). Degenerate values: Σ p_i s_i = 0 → coarseness IBSI undefined, PyRadiomics 10⁶;
// one grey level → contrast and busyness IBSI undefined, PyRadiomics 0; Σ s_i = 0 → strength IBSI
// undefined, PyRadiomics 0.
//
// NGLDM (IBSI 3.11; PyRadiomics gldm). The dependence count of a voxel is 1 + the number of ROI
// neighbours (Chebyshev ≤ d) whose grey level differs by at most α (IBSI coarseness a,
// PyRadiomics gldm_a). Same definitions: ngl_lde SmallDependenceEmphasis, ngl_hde
// LargeDependenceEmphasis, ngl_lgce LowGrayLevelEmphasis, ngl_hgce HighGrayLevelEmphasis,
// ngl_ldlge/ldhge/hdlge/hdhge Small/LargeDependence Low/HighGrayLevelEmphasis, ngl_glnu
// GrayLevelNonUniformity, ngl_dcnu DependenceNonUniformity, ngl_dcnu_norm …Normalized, ngl_gl_var
// GrayLevelVariance, ngl_dc_var DependenceVariance, ngl_dc_entr DependenceEntropy (ε). IBSI only:
// ngl_glnu_norm (PyRadiomics deprecated it: equal to firstorder Uniformity), ngl_dc_perc
// (deprecated: always 1) and ngl_dc_energy.
//
// Undefined values are NaN with a Reason in the Feature, never ±Inf or a panic; an empty matrix
// (e.g. no neighbour pairs in a one-voxel ROI) makes every feature of it undefined.

"""Random-matrix machinery shared by notebooks 01 and 02: `DiagStats` (stats), the support condition
ρ(T(λ)) = 1 (support), the rank-one density (density), Gaussian quadrature (quadrature) and the
spectrum plot (plot)."""

"""Master data: the products and locations the ERP delivers.

Owns bulk upserts (`upserts`: every row validated, all written or none), which move every
channel's ATS (rules read product and location facts). The facts themselves are cached per
process by `store.catalog`, checked against a version every upsert bumps in its transaction.
"""

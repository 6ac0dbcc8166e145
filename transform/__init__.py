"""Transform stage: extracted tables and text → placed, validated values (a ParsedReport).

The sub-packages follow one document's way through the stage, and imports go one way down it:

    knowledge/   what the template is: codebook, labels, cell values, section markers, the 二
                 layout, the row hierarchy, template versions, the identities (data under data/)
    placement/   grids → facts: tables cut into section grids, cells placed on codebook codes
    readers/     text → facts, where no grid survived: text layouts, flattened text, legacy tables
    parse.py     one document's report: grids placed, else its text read
    checks/      what the report says about itself: identities, prose, validation
    arbitrate.py choose between candidate extractions of one document by their checks
"""

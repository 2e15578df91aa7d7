import gzip
import sys

import pytest
import torch
from rdkit import Chem
from rdkit.Chem import Crippen, RDConfig
from torch_geometric.loader import DataLoader

from graphcon_ode.datasets import graph as graph_datasets
from graphcon_ode.datasets.graph import load_graph_dataset
from graphcon_ode.datasets.molecules import MOLECULE_ATOM_TYPES, build_zinc_moses, molecule_graph, sa_scorer

pytestmark = pytest.mark.usefixtures("private_cache")

# aromatic rings, a seven-membered ring, a charged amine and carboxylate, a nitrile, halogens, an iodide
SMILES = ["c1ccccc1O", "C1CCCCCC1C(=O)O", "C[N+](C)(C)CC(=O)[O-]", "N#Cc1ccc(Cl)cc1Br", "CC(C)(C)c1ccsc1",
          "O=C1CCCCCCC1", "Ic1ccc2[nH]ccc2c1", "CSC(=O)c1ccco1", "FC(F)(F)C1CC1", "CCOC(=O)C1CCN(C)CC1",
          "c1ccc2ncccc2c1", "OCC1OC(O)C(O)C1O"]


def rdkit_sa_score(molecule):
    sys.path.insert(0, str(RDConfig.RDContribDir) + "/SA_Score")
    try:
        import sascorer
    finally:
        sys.path.pop(0)
    return sascorer.calculateScore(molecule)


@pytest.mark.parametrize("smiles", SMILES)
def test_molecule_graph_has_rdkit_atoms_bonds_and_penalised_logp(smiles):
    molecule = Chem.MolFromSmiles(smiles)
    graph = molecule_graph(smiles, sa_scorer())
    assert graph.num_nodes == molecule.GetNumAtoms()
    assert graph.edge_index.shape[1] == graph.edge_attr.numel() == 2 * molecule.GetNumBonds()
    for a, b in graph.edge_index.t().tolist():
        assert molecule.GetBondBetweenAtoms(a, b) is not None
    for atom, kind in zip(molecule.GetAtoms(), graph.x[:, 0].tolist()):
        assert MOLECULE_ATOM_TYPES[kind] == (atom.GetSymbol(), atom.GetFormalCharge(), atom.GetIsAromatic())
    large_rings = sum(len(ring) > 6 for ring in molecule.GetRingInfo().AtomRings())
    expected = Crippen.MolLogP(molecule) - rdkit_sa_score(molecule) - large_rings
    assert graph.y.item() == pytest.approx(expected, abs=1e-5)


def test_phenol_types_and_bonds_written_out():
    graph = molecule_graph("c1ccccc1O", sa_scorer())
    aromatic_carbon, oxygen = MOLECULE_ATOM_TYPES.index(("C", 0, True)), MOLECULE_ATOM_TYPES.index(("O", 0, False))
    assert graph.x[:, 0].tolist() == [aromatic_carbon] * 6 + [oxygen]
    assert sorted(graph.edge_attr.tolist()) == [0, 0] + [3] * 12  # one single C–O bond, six aromatic ring bonds
    assert graph.y.item() == pytest.approx(Crippen.MolLogP(Chem.MolFromSmiles("c1ccccc1O"))
                                           - rdkit_sa_score(Chem.MolFromSmiles("c1ccccc1O")), abs=1e-5)


def write_smiles(path, smiles):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as handle:
        handle.write("SMILES\n" + "\n".join(smiles) + "\n")


def test_zinc_moses_draws_disjoint_splits_by_its_seed(tmp_path):
    path = tmp_path / "moses" / "test.csv.gz"
    write_smiles(path, SMILES)
    train, val, test = build_zinc_moses(path, sizes=(6, 3, 2), seed=0)
    drawn = [g.smiles for g in train + val + test]
    assert (len(train), len(val), len(test)) == (6, 3, 2)
    assert len(set(drawn)) == 11 and set(drawn) <= set(SMILES)
    assert [g.smiles for g in build_zinc_moses(path, sizes=(6, 3, 2), seed=0)[0]] == drawn[:6]
    assert [g.smiles for g in build_zinc_moses(path, sizes=(6, 3, 2), seed=1)[0]] != drawn[:6]
    with pytest.raises(ValueError, match="zinc-moses"):
        build_zinc_moses(path)


def test_zinc_moses_is_cached_and_rebuilt_when_the_raw_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "moses" / "test.csv.gz"
    write_smiles(path, SMILES)
    monkeypatch.setattr(graph_datasets, "ZINC_MOSES_SIZES", (6, 3, 3))
    builds = []
    build = graph_datasets.build_zinc_moses
    monkeypatch.setattr(graph_datasets, "build_zinc_moses", lambda *a: builds.append(1) or build(*a))
    first = load_graph_dataset("zinc-moses", tmp_path)
    again = load_graph_dataset("zinc-moses", tmp_path)
    assert len(builds) == 1
    assert (first.task, first.metric, first.level, first.stand_in_for) == ("regression", "mae", "graph", "zinc")
    assert first.atom_vocabulary == len(MOLECULE_ATOM_TYPES) + 1 and first.edge_vocabulary == 4
    assert [g.smiles for g in again.test] == [g.smiles for g in first.test]
    assert torch.equal(again.train[2].edge_attr, first.train[2].edge_attr)
    batch = next(iter(DataLoader(first.train, batch_size=6)))
    assert batch.num_graphs == 6 and batch.y.shape == (6,)
    write_smiles(path, SMILES[::-1] + ["CCO"])
    changed = load_graph_dataset("zinc-moses", tmp_path)
    assert len(builds) == 2 and len(changed.train) == 6

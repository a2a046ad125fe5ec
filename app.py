"""LayerLab entry point: page config and the navigation between the workflow steps."""
import streamlit as st

st.set_page_config(page_title="LayerLab", page_icon="🧱", layout="wide")
st.title("LayerLab")
st.write("Build a neural network without writing code: bring data, stack layers, train, evaluate, download.")
